"""Tenant isolation through a problem: three councils' tickets share one problem, yet no council's channel,
App Home or `/desk` answer ever names another council or its ticket; a broadcast reaches every active
council's own channel (one that raised nothing too), each its own message, once per problem × council."""

from __future__ import annotations

import json

from desk.db.engine import unit_of_work
from desk.services import problems
from tests.slack.conftest import ENGINEER, Desk
from tests.slack.problem_steps import (  # noqa: F401  (test_playbooks: the fixture with a fourth council)
    COUNCILS,
    channel_posts,
    command,
    people,
    raise_ticket,
    send,
    test_playbooks,
)

TITLE = "Pay gateway: Cherwell, Fife and Belfast down"  # a working title naming councils, as engineers write
SUMMARY = "Card payments through GOV.UK Pay are timing out for several councils. We are on it."
RAISING = ("cherwell", "fife", "belfast")


def linked_problem(desk: Desk) -> dict[str, str]:
    people(desk)
    refs = {council: raise_ticket(desk, council)[0] for council in RAISING}
    with unit_of_work(desk.engine) as session:
        problem = problems.open_problem(session, title=TITLE, summary=SUMMARY, owner=ENGINEER, by=ENGINEER,
                                        now=desk.clock.now(), from_ticket=refs["cherwell"])
        for council in ("fife", "belfast"):
            problems.link(session, problem.id, refs[council], by=ENGINEER, now=desk.clock.now())
    command(desk, "problem update PRB-1 The gateway supplier has found the fault.")
    return refs


def others(council: str, refs: dict[str, str]) -> list[str]:
    """What must never reach `council`: the other councils' names and tickets, and the working title."""
    named = [COUNCILS[c][4] for c in COUNCILS if c != council] + [r for c, r in refs.items() if c != council]
    return [*named, TITLE]


def test_no_council_surface_names_another_councils_ticket_through_a_problem(desk: Desk) -> None:
    refs = linked_problem(desk)
    for council in RAISING:
        person, team, channel, _, _ = COUNCILS[council]
        seen = list(channel_posts(desk, channel))
        assert any("The gateway supplier has found the fault" in post for post in seen), council
        send(desk, desk.driver.app_home_opened(user=person, user_team=team), interaction=False)
        home = desk.slack.last("views.publish")
        assert home.args["user_id"] == person
        seen.append(json.dumps(home.args["view"]))
        seen.append(command(desk, "list", user=person, team=team, channel=channel))
        seen.append(command(desk, f"status {refs[council]}", user=person, team=team, channel=channel))
        for other in RAISING:
            if other != council:  # asking for another council's ticket by its ref: not found
                answer = command(desk, f"status {refs[other]}", user=person, team=team, channel=channel)
                assert f"no ticket {refs[other]}" in answer
        everything = " ".join(seen)
        assert refs[council] in everything
        for secret in others(council, refs):
            assert secret not in everything, (council, secret)


def test_a_broadcast_reaches_every_council_once_each_naming_no_other(desk: Desk) -> None:
    refs = linked_problem(desk)
    said = command(desk, "problem broadcast PRB-1")
    assert "going to 4 council channels" in said
    for council, (_, _, channel, _, _) in COUNCILS.items():
        broadcasts = [post for post in channel_posts(desk, channel) if "Known problem affecting the service" in post]
        assert len(broadcasts) == 1, (council, broadcasts)
        assert "timing out for several councils" in broadcasts[0]
        for secret in others(council, refs):
            assert secret not in broadcasts[0], (council, secret)

    again = command(desk, "problem broadcast PRB-1")
    assert "already broadcast" in again
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 0
    for _, _, channel, _, _ in COUNCILS.values():
        assert sum("Known problem affecting the service" in p for p in channel_posts(desk, channel)) == 1
