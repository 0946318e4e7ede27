"""Acks given in front of Bolt (desk/slack/front.py), through the real web app and the real Bolt app.

Everything else about these requests (the same listeners, the same arguments, the same effects) is what
the rest of tests/slack checks, since every request there goes through this front. Here: what only the
front decides. An event Bolt's own middleware drops (desk's own message) is still stored, then done,
never reworked; a button desk has no listener for is acked and logged; and a command desk does not
serve is left to Bolt (a form's submission too: tests/slack/test_forms_refused.py).
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from desk.db.tables import InboxRow, TicketRow
from desk.sandbox.ids import BOT_ID, BOT_USER_ID
from desk.services import inbox
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, MONDAY, SUPPORT, TRIAGE, Desk


def inbox_rows(desk: Desk) -> list[InboxRow]:
    with Session(desk.engine) as session:
        return list(session.exec(select(InboxRow)).all())


def test_desks_own_message_is_stored_then_done_without_work_and_never_reworked(desk: Desk) -> None:
    """Slack sends desk its own posts as message events. Bolt drops them (its self-events middleware)
    before any listener; the row stored before the ack must still end done, or rework would try it
    again and again until it gave up."""
    own = desk.driver.message("CHW-1 is open: we are looking at it", user=BOT_USER_ID, user_team=CHERWELL,
                              channel=CHERWELL_CHANNEL, bot_id=BOT_ID)
    assert desk.driver.send_event(own).status == 200
    desk.settle()
    (row,) = inbox_rows(desk)
    assert (row.key, row.done_at) == (f"event:{own['event_id']}", MONDAY)
    desk.clock.advance(hours=1)
    assert desk.wiring.worker(enqueue_digests=None).inbox() == 0
    assert desk.slack.calls == []
    with Session(desk.engine) as session:
        assert session.exec(select(TicketRow)).all() == []
        assert inbox.unfinished(session) == 0


def test_a_button_desk_has_no_listener_for_is_acked_and_logged(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    """A button's ack says nothing but "got it", so it is given before Bolt looks for the listener: one
    that desk has none for (an old card's retired button) is acked, and the log says it was not handled."""
    payload = desk.driver.block_action("desk_retired_button", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE)
    with caplog.at_level(logging.WARNING, logger="desk.slack"):
        answer = desk.driver.send_interaction(payload)
        desk.settle()
    assert (answer.status, answer.body) == (200, b"")
    assert any("block_actions acked, then not handled (404)" in r.getMessage() for r in caplog.records)
    assert desk.slack.calls == []


def test_a_command_desk_does_not_serve_is_left_to_bolt(desk: Desk) -> None:
    """Only `/desk` is acked in front: another command reaching desk is Bolt's to refuse, as before."""
    answer = desk.driver.send_form(desk.driver.slash_command("", user=ALICE, user_team=CHERWELL,
                                                             channel=CHERWELL_CHANNEL, command="/other"))
    assert answer.status == 404
    desk.settle()
    assert desk.slack.calls == []
