"""Edits and deletions of the message that opened a ticket, through signed `message_changed` and
`message_deleted` events: before an engineer confirms triage the ticket's words follow an edit; after,
the edit is recorded and shown on the card beside the words triaged. A deleted request leaves a trace and
the ticket stays. Every change is an event on the council's chain keeping the old words, which retention
removes like all words."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import update

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow
from desk.services import audit, retention, tickets
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk


def send(desk: Desk, body: dict) -> None:
    response = desk.driver.send_event(body)
    assert response.status == 200, response.text
    desk.settle()


def state(desk: Desk):
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
        events = [(e.type, dict(e.data)) for e in queries.list_ticket_events(session, ticket.id)]
        return ticket.title, ticket.description, ticket.status, events


def last_card(desk: Desk) -> str:
    return json.dumps(desk.slack.calls_to("chat.update")[-1].args["blocks"])


def test_an_edit_before_triage_is_confirmed_rewrites_the_ticket_and_the_card_says_edited(desk: Desk) -> None:
    request = desk.driver.message("Refunds failing", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    send(desk, request)
    desk.clock.advance(minutes=2)
    edit = desk.driver.message_changed(request, "Refunds failing for card payments since 9am")
    send(desk, edit)
    send(desk, edit)  # a redelivery: one effect
    title, description, _, events = state(desk)
    assert (title, description) == ("Refunds failing for card payments since 9am",) * 2
    assert [t for t, _ in events] == ["opened", "edited"]
    assert events[1][1]["previous"] == "Refunds failing" and events[1][1]["applied"] is True
    assert events[0][1]["description"] == "Refunds failing"  # the opening event is never rewritten
    card = last_card(desk)
    assert "edited by the council Mon 5 Jan 09:02" in card and "since 9am" in card

    # Slack's message_changed for a new thread reply (same words): not an edit
    current = {**edit["event"]["message"], "channel": CHERWELL_CHANNEL}
    send(desk, desk.driver.message_changed(current, current["text"]))
    assert [t for t, _ in state(desk)[3]] == ["opened", "edited"]


def test_after_an_engineer_claims_an_edit_is_recorded_not_applied_and_shown_escaped(desk: Desk) -> None:
    request = desk.driver.message("Refunds failing", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    send(desk, request)
    with unit_of_work(desk.engine) as session:
        card_ts = queries.get_ticket(session, "CHW-1").card_ts
    claim = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=card_ts)
    assert desk.driver.send_interaction(claim).status == 200
    desk.settle()
    send(desk, desk.driver.message_changed(request, "Actually it is all payments &lt;!here&gt;"))
    title, description, _, events = state(desk)
    assert (title, description) == ("Refunds failing", "Refunds failing")
    assert events[-1][0] == "edited" and events[-1][1]["applied"] is False
    card = last_card(desk)
    assert "Edited after triage:* Actually it is all payments" in card
    assert "<!here>" not in card  # people's words never become live mentions


def test_a_deleted_request_leaves_a_trace_and_the_ticket_stays_and_retention_removes_the_old_words(
        desk: Desk) -> None:
    request = desk.driver.message("Refunds failing", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    send(desk, request)
    send(desk, desk.driver.message_changed(request, "Refunds failing since 9am"))
    send(desk, desk.driver.message_deleted(request))
    _, description, status, events = state(desk)
    assert status == "new" and description == "Refunds failing since 9am"
    assert events[-1] == ("message_deleted", {"previous": "Refunds failing since 9am"})
    assert "message was deleted" in last_card(desk)

    with unit_of_work(desk.engine) as session:  # resolved, closed, and past the council's retention period
        now = desk.clock.now()
        tickets.resolve(session, ref="CHW-1", note="Fixed", actor=ENGINEER, at=now)
        tickets.close(session, ref="CHW-1", actor="worker", at=now)
        session.exec(update(CouncilRow).where(CouncilRow.id == "cherwell")  # type: ignore[call-overload]
                     .values(retention={"redact_after_days": 30}))
    retention.apply_retention(desk.engine, now=desk.clock.now() + timedelta(days=31))
    _, _, _, events = state(desk)
    words = json.dumps([data for _, data in events])
    assert "Refunds failing" not in words and "since 9am" not in words
    with unit_of_work(desk.engine) as session:
        assert all(report.ok for report in audit.verify_all(session, "cherwell"))
