"""`/desk search WORDS` through signed requests, and the triage card's "Similar tickets".

Tickets are opened the way councils open them (messages in their channels); support's public reply and
internal note are thread messages, as in Slack. Runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import re

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import privacy, tickets
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    FIFE_CHANNEL,
    MALLORY,
    SUPPORT,
    TRIAGE,
    Desk,
)


def send(desk: Desk, body: dict) -> None:
    desk.slack.add_message(body)
    assert desk.driver.send_event(body).status == 200
    desk.settle()


def ask(desk: Desk, text: str, *, user: str, team: str, channel: str) -> str:
    """`/desk TEXT` as `user`; the ephemeral answer's blocks as JSON text."""
    before = len(desk.slack.calls_to("response_url"))
    command = desk.driver.slash_command(text, user=user, user_team=team, channel=channel)
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    answers = desk.slack.calls_to("response_url")
    assert len(answers) == before + 1
    return json.dumps(answers[-1].args, ensure_ascii=False)


def refs(answer: str) -> list[str]:
    return re.findall(r"\*((?:CHW|FIFE)-\d+)\*", answer)


def ticket(desk: Desk, ref: str):
    with unit_of_work(desk.engine) as session:
        return queries.get_ticket(session, ref)


def two_councils_with_card_payment_trouble(desk: Desk) -> None:
    """CHW-1 and FIFE-1 both about card payments; CHW-2 about something else."""
    send(desk, desk.driver.message("Card payments failing at the kiosk since 9am", user=ALICE,
                                   user_team=CHERWELL, channel=CHERWELL_CHANNEL))
    desk.clock.advance(minutes=1)
    send(desk, desk.driver.message("Card payments declined for every resident", user=BRUCE, user_team=FIFE,
                                   channel=FIFE_CHANNEL))
    desk.clock.advance(minutes=1)
    send(desk, desk.driver.message("Please add Dave to the finance report", user=ALICE, user_team=CHERWELL,
                                   channel=CHERWELL_CHANNEL))


def test_a_council_finds_only_its_own_tickets(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    alice = ask(desk, "search card payments", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert refs(alice) == ["CHW-1"]
    assert "FIFE" not in alice and "declined" not in alice and "Fife" not in alice
    assert "Cherwell District Council's tickets" in alice
    bruce = ask(desk, "search card payments", user=BRUCE, team=FIFE, channel=FIFE_CHANNEL)
    assert refs(bruce) == ["FIFE-1"] and "kiosk" not in bruce
    # Fife's words, searched by Cherwell: nothing, and nothing to say that Fife has it
    nothing = ask(desk, "search declined resident", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert refs(nothing) == [] and "No tickets found" in nothing


def test_support_searches_every_council_and_each_hit_has_status_and_sla(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    answer = ask(desk, "search card payments", user=ENGINEER, team=SUPPORT, channel=TRIAGE)
    assert sorted(refs(answer)) == ["CHW-1", "FIFE-1"]
    assert "every council's tickets" in answer
    assert "Cherwell District Council" in answer and "Fife Council" in answer  # support lines name the council
    assert "New" in answer and "respond due" in answer  # status and where the SLA stands
    desk.clock.advance(hours=30)  # long past both respond targets
    later = ask(desk, "search card payments", user=ENGINEER, team=SUPPORT, channel=TRIAGE)
    assert later.count("respond breached") == 2


def test_public_replies_are_found_and_internal_notes_are_not(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    chw1 = ticket(desk, "CHW-1")
    send(desk, desk.driver.message("Restart the terminal and the acquirer session resets", user=ENGINEER,
                                   user_team=SUPPORT, channel=CHERWELL_CHANNEL, thread_ts=chw1.slack_ts,
                                   shared_channel=True))
    send(desk, desk.driver.message("Suspect their merchant credentials expired", user=ENGINEER,
                                   user_team=SUPPORT, channel=TRIAGE, thread_ts=chw1.card_ts))
    with unit_of_work(desk.engine) as session:
        types = [e.type for e in queries.list_ticket_events(session, chw1.id)]
    assert "replied" in types and "noted" in types  # both reached desk
    assert refs(ask(desk, "search acquirer session", user=ALICE, team=CHERWELL,
                    channel=CHERWELL_CHANNEL)) == ["CHW-1"]
    for user, team, channel in ((ALICE, CHERWELL, CHERWELL_CHANNEL), (ENGINEER, SUPPORT, TRIAGE)):
        assert refs(ask(desk, "search merchant credentials", user=user, team=team, channel=channel)) == []


def test_redacted_words_are_not_found(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    with unit_of_work(desk.engine) as session:
        tickets.resolve(session, ref="CHW-1", note="Kiosk firmware updated", actor=ENGINEER, at=desk.clock.now())
        tickets.close(session, ref="CHW-1", actor="desk", at=desk.clock.now())
    assert refs(ask(desk, "search kiosk", user=ENGINEER, team=SUPPORT, channel=TRIAGE)) == ["CHW-1"]
    erased = privacy.redact_person(desk.engine, user_id=ALICE, actor="U0DPO00001", now=desk.clock.now())
    assert erased.tickets == ["CHW-1"] and erased.kept_open == ["CHW-2"]
    for user, team, channel in ((ALICE, CHERWELL, CHERWELL_CHANNEL), (ENGINEER, SUPPORT, TRIAGE)):
        assert refs(ask(desk, "search kiosk", user=user, team=team, channel=channel)) == []
    # Fife's ticket and Alice's open one keep their words
    assert refs(ask(desk, "search card payments", user=ENGINEER, team=SUPPORT, channel=TRIAGE)) == ["FIFE-1"]
    assert refs(ask(desk, "search finance report", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)) == ["CHW-2"]


def test_any_words_are_safe_and_no_words_get_a_clear_answer(desk: Desk) -> None:
    two_courses = ('search "card', "search NEAR(card payments", "search card* OR -kiosk", "search title:card",
                   "search payments) AND (1=1", 'search "" card ^kiosk {title}:x')
    two_councils_with_card_payment_trouble(desk)
    for text in two_courses:
        answer = ask(desk, text, user=ENGINEER, team=SUPPORT, channel=TRIAGE)
        assert "did not work" not in answer, text
    assert sorted(refs(ask(desk, "search card* payments!", user=ENGINEER, team=SUPPORT, channel=TRIAGE))) == [
        "CHW-1", "FIFE-1"]
    for text in ("search", "search ?!*"):
        assert "give some words to search for" in ask(desk, text, user=ALICE, team=CHERWELL,
                                                      channel=CHERWELL_CHANNEL)
    # people's words come back escaped, never as a live mention
    answer = ask(desk, "search <!channel> kiosk", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert "<!channel>" not in answer and "&lt;!channel&gt;" in answer


def test_someone_desk_does_not_serve_cannot_search(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    answer = ask(desk, "search card payments", user=MALLORY, team="T0OUTSIDER", channel="C0OUTSIDE1")
    assert refs(answer) == [] and "not one of them" in answer


def test_the_triage_card_lists_similar_earlier_tickets(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    desk.clock.advance(minutes=5)
    send(desk, desk.driver.message("Card payments failing again at the kiosk", user=ALICE, user_team=CHERWELL,
                                   channel=CHERWELL_CHANNEL))
    card = ticket(desk, "CHW-3").card_ts
    posted = [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == TRIAGE]
    blocks = next(c.args["blocks"] for c in posted if "CHW-3" in c.args["text"])
    similar = [b for b in blocks if b["type"] == "context" and "Similar tickets" in json.dumps(b)]
    assert len(similar) == 1 and card is not None
    listed = refs(json.dumps(similar[0]))
    assert listed[0] == "CHW-1" and "CHW-2" not in listed and "CHW-3" not in listed
    first = next(c.args["blocks"] for c in posted if "CHW-1" in c.args["text"])
    assert "Similar tickets" not in json.dumps(first)  # nothing earlier: the card says nothing


def test_someone_in_the_support_workspace_but_not_on_the_team_cannot_search(desk: Desk) -> None:
    two_councils_with_card_payment_trouble(desk)
    clerk = "U0CLERK001"
    desk.slack.users[clerk] = {"id": clerk, "team_id": SUPPORT, "name": "clerk", "real_name": "A Clerk",
                               "tz": "Europe/London"}
    answer = ask(desk, "search card payments", user=clerk, team=SUPPORT, channel=TRIAGE)
    assert refs(answer) == [] and "not on the support team" in answer and "kiosk" not in answer


def test_a_councils_edit_is_searched_by_its_new_words_before_and_after_triage(desk: Desk) -> None:
    request = desk.driver.message("Refunds failing", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    send(desk, request)
    send(desk, desk.driver.message_changed(request, "Refunds failing at the Banbury counter"))
    assert refs(ask(desk, "search banbury", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)) == ["CHW-1"]
    card_ts = ticket(desk, "CHW-1").card_ts
    claim = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=card_ts)
    assert desk.driver.send_interaction(claim).status == 200
    desk.settle()
    send(desk, desk.driver.message_changed(request, "Refunds failing at Bicester too"))  # recorded, not applied
    for words in ("search bicester", "search banbury"):
        assert refs(ask(desk, words, user=ENGINEER, team=SUPPORT, channel=TRIAGE)) == ["CHW-1"], words
