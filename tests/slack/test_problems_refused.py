"""Problems are the support team's: a council member (in their own channel, with crafted payloads too) is
refused every problem action, learns nothing about any problem, and changes nothing."""

from __future__ import annotations

import json

from sqlmodel import func, select

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow, ProblemEventRow, ProblemLinkRow
from desk.sandbox.interactions import static_select_value
from desk.slack.ids import Block, Input, View
from desk.slack.metadata import ProblemForm, ProblemLink, TicketRef
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, Desk
from tests.slack.problem_steps import LINK, UNLINK, click, command, raise_ticket, send

SECRET_TITLE = "Pay timeouts: Cherwell and Fife"
SECRET_SUMMARY = "Card payments through GOV.UK Pay are timing out."


def counts(desk: Desk) -> tuple[int, int, int]:
    with unit_of_work(desk.engine) as session:
        return tuple(session.exec(select(func.count()).select_from(table)).one()  # type: ignore[return-value]
                     for table in (ProblemEventRow, ProblemLinkRow, OutboxRow))


def refusals(desk: Desk) -> int:
    """How many times Alice was told, in any way, that problems are the support team's."""
    return sum("only the support team can work on shared problems" in (c.args.get("text") or "")
               for c in desk.slack.calls if c.method in ("chat.postEphemeral", "chat.postMessage", "response_url"))


def test_a_council_member_is_refused_every_problem_action(desk: Desk) -> None:
    raise_ticket(desk, "cherwell")
    raise_ticket(desk, "fife")
    command(desk, "problem new")
    modal = desk.slack.last("views.open").args["view"]
    send(desk, desk.driver.view_submission(View.NEW_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=modal, values={
        Block.PROBLEM_TITLE: {Input.VALUE: SECRET_TITLE}, Block.PROBLEM_SUMMARY: {Input.VALUE: SECRET_SUMMARY}}))
    click(desk, LINK, "FIFE-1")
    link_modal = desk.slack.last("views.open").args["view"]
    send(desk, desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=link_modal,
                                           values={Block.PROBLEM: {Input.VALUE: static_select_value("1")}}))
    before, opened = counts(desk), len(desk.slack.calls_to("views.open"))

    answers = [command(desk, f"problem {verb}", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
               for verb in ("", "list", "show PRB-1", "new", "update PRB-1 all fixed", "update PRB-1 monitoring ok",
                            "workaround PRB-1 use cash", "match PRB-1 card", "resolve PRB-1 done",
                            "broadcast PRB-1")]
    for said in answers:
        assert "only the support team can work on shared problems" in said, said
        assert "PRB-1 " not in said and SECRET_TITLE not in said and SECRET_SUMMARY not in said
        assert "FIFE" not in said and "Fife" not in said

    # Buttons and forms, crafted: the card's, in the council's own channel.
    driver, refused_before = desk.driver, refusals(desk)
    for action, value in ((LINK, TicketRef(ref="CHW-1").dump()), (LINK, TicketRef(ref="FIFE-1").dump()),
                          (UNLINK, ProblemLink(ref="FIFE-1", problem=1).dump())):
        send(desk, driver.block_action(action, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                       value=value))
    send(desk, driver.view_submission(View.LINK_PROBLEM, user=ALICE, user_team=CHERWELL,
                                      private_metadata=ProblemForm(ref="CHW-1").dump(),
                                      values={Block.PROBLEM: {Input.VALUE: static_select_value("1")}}))
    send(desk, driver.view_submission(View.NEW_PROBLEM, user=ALICE, user_team=CHERWELL,
                                      private_metadata=ProblemForm().dump(),
                                      values={Block.PROBLEM_TITLE: {Input.VALUE: "mine"}}))
    assert refusals(desk) == refused_before + 5, "each click and form was refused, and Alice was told"

    assert counts(desk) == before, "nothing was linked, unlinked, opened, updated or queued"
    assert len(desk.slack.calls_to("views.open")) == opened, "no problem form was opened for the council"
    everything = json.dumps([c.args for c in desk.slack.calls if c.args.get("channel") == CHERWELL_CHANNEL])
    assert SECRET_TITLE not in everything and SECRET_SUMMARY not in everything and "FIFE-1" not in everything
