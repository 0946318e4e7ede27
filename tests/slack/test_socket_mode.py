"""Socket Mode through the real parts: desk's `SocketModeRunner` (slack_sdk's client, the Bolt app) connected to
the Socket Mode stand-in's WebSocket, which sends envelopes as Slack does and records every ack.

Resilience: a redelivered envelope has one effect; an answer ready after the ack deadline is never sent; a
`disconnect` (refresh_requested, link_disabled) or a dropped socket is followed by a new connection and
nothing sent around it is lost or doubled; a graceful stop acks what it has in hand and leaves the rest to
Slack's redelivery; a slash command and a refused form carry their answer in the ack."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import Session, select

from desk import __version__
from desk.db.engine import unit_of_work
from desk.db.outage import Reachability
from desk.db.tables import InboxRow, TicketRow
from desk.errors import ConfigError
from desk.observability import metrics
from desk.sandbox.socket_mode import LINK_DISABLED, REFRESH_REQUESTED
from desk.slack.context import UNREACHABLE_TEXT
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from desk.slack.socket_mode import SocketModeRunner
from tests.processes import eventually
from tests.slack.conftest import ALICE, APP_TOKEN, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk
from tests.slack.test_receipt import hold_the_inbox


def tickets(desk: Desk) -> list[TicketRow]:
    with Session(desk.engine) as session:
        return list(session.exec(select(TicketRow).order_by(TicketRow.number)).all())


def a_message(desk: Desk, text: str) -> dict:
    return desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)


def envelopes(kind: str, outcome: str) -> float:
    return metrics.PROCESS.get_sample_value("desk_socket_mode_envelopes_total",
                                            {"type": kind, "outcome": outcome}) or 0.0


def test_an_event_is_acked_bare_and_opens_one_ticket_even_when_slack_delivers_it_again(socket_desk: Desk) -> None:
    desk = socket_desk
    acked = envelopes("event", "acked")
    first = desk.driver.send_event(a_message(desk, "Council tax direct debits failed overnight"))
    assert first.status == 200 and first.body == b""  # an events_api ack carries no payload
    again = desk.driver.redeliver(first)
    assert again.status == 200 and again.envelope.retry_attempt == 1
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]
    cards = [c for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE]
    assert len(cards) == 1
    assert envelopes("event", "acked") == acked + 2


def test_an_answer_ready_after_the_deadline_is_never_acked_and_slacks_redelivery_has_one_effect(
        socket_desk: Desk) -> None:
    """Bolt's own handler would send the ack whenever the app answers; desk does not send it late."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    late = envelopes("event", "late")
    runner = SocketModeRunner(desk.wiring.slack_app(), APP_TOKEN, ack_within=0.0)  # every answer is "late"
    runner.start()
    try:
        number = socket.wait_connections(2)[-1]
        first = socket.send_event(a_message(desk, "Planning portal upload fails"), connection=number)
        eventually(lambda: envelopes("event", "late") == late + 1, "the late answer counted", timeout=5)
        desk.settle()
        assert socket.ack_of(first) is None  # not acked, not even later
    finally:
        runner.stop(timeout=5)
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]  # the work was stored and done all the same
    again = socket.redeliver(first)  # Slack saw no ack: it delivers the event again (to the other runner)
    assert socket.wait_ack(again).after < 3
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]
    assert socket.violations == []


def test_an_event_that_cannot_be_stored_is_not_acked_and_slacks_redelivery_is_stored(socket_desk: Desk) -> None:
    desk = socket_desk
    desk.wiring.receipts.store_within = 0.2
    body = a_message(desk, "Bins were not collected on Elm Road")
    with unit_of_work(desk.engine) as holder:
        hold_the_inbox(desk, holder)
        answer = desk.driver.send_event(body, timeout=1.5)
    assert answer.status == 0  # no ack: Slack delivers it again
    desk.settle()
    assert tickets(desk) == []
    assert desk.driver.redeliver(answer).status == 200
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]


def test_a_refused_form_carries_its_errors_in_the_ack(socket_desk: Desk) -> None:
    desk = socket_desk
    submit = desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
                                         values={Block.TITLE: {Input.VALUE: "   "}})
    response = desk.driver.send_interaction(submit)
    assert response.status == 200 and response.json()["response_action"] == "errors"
    assert Block.TITLE in response.json()["errors"]
    assert tickets(desk) == []


def test_a_slash_command_is_acked_and_answered(socket_desk: Desk) -> None:
    desk = socket_desk
    command = desk.driver.slash_command("help", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    response = desk.driver.send_form(command)
    assert response.status == 200
    desk.settle()
    answered = desk.slack.calls_to("response_url") + desk.slack.calls_to("chat.postEphemeral")
    answer_text = response.text + json.dumps([c.args for c in answered])
    assert "/desk" in answer_text, answer_text


def reconnects_and_keeps_working(desk: Desk, cut) -> None:
    socket = desk.slack.socket_mode
    assert socket is not None
    before = socket.wait_connections(1)[-1]
    opened = len(desk.slack.calls_to("apps.connections.open"))
    first = desk.driver.send_event(a_message(desk, "Before: the library booking form is down"))
    assert first.status == 200
    cut(socket)
    after = socket.wait_new_connection(before)
    assert after > before
    assert len(desk.slack.calls_to("apps.connections.open")) == opened + 1  # a fresh URL each time
    second = desk.driver.send_event(a_message(desk, "After: the library booking form is still down"))
    assert second.status == 200 and second.envelope.connection == after
    desk.settle()
    assert [t.description for t in tickets(desk)] == ["Before: the library booking form is down",
                                                      "After: the library booking form is still down"]
    assert socket.violations == []


def test_a_refresh_requested_disconnect_is_followed_by_a_new_connection(socket_desk: Desk) -> None:
    reconnects_and_keeps_working(socket_desk, lambda socket: socket.disconnect(REFRESH_REQUESTED))


def test_a_link_disabled_disconnect_is_followed_by_a_new_connection(socket_desk: Desk) -> None:
    reconnects_and_keeps_working(socket_desk, lambda socket: socket.disconnect(LINK_DISABLED))


def test_a_dropped_socket_is_noticed_and_replaced(socket_desk: Desk) -> None:
    reconnects_and_keeps_working(socket_desk, lambda socket: socket.drop())


def test_an_envelope_sent_between_the_disconnect_and_the_close_is_acked_in_time(socket_desk: Desk) -> None:
    """Slack keeps the old link open a while after `disconnect`; what it sends there meanwhile is answered
    at once (slack_sdk alone holds it until the old link closes, here after 3.5 s: a late ack, never sent)."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    socket.close_after_disconnect = 3.5
    old = socket.disconnect(REFRESH_REQUESTED)
    on_old = socket.send_event(a_message(desk, "Sent on the old link"), connection=old)
    assert socket.wait_ack(on_old).after < 2.0
    socket.wait_new_connection(old)
    desk.settle()
    assert [t.description for t in tickets(desk)] == ["Sent on the old link"]


def test_a_graceful_stop_acks_what_it_has_and_slack_redelivers_the_rest_once(socket_desk: Desk) -> None:
    """Envelopes arrive while the runner stops (a deploy): each one is acked, or left unacked (never
    dispatched) for Slack to deliver again to the next process's connection. One ticket per message."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None and desk.runner is not None
    old = socket.wait_connections(1)[-1]
    successor = SocketModeRunner(desk.wiring.slack_app(), APP_TOKEN)  # the next deploy's process
    successor.start()
    try:
        sent = [socket.send_event(a_message(desk, f"Message {n} during a deploy"), connection=old)
                for n in range(8)]
        assert desk.runner.stop(timeout=5)  # what SIGTERM does: what is in hand is acked, then the close
        desk.settle()
        for envelope in sent:
            if socket.ack_of(envelope) is None:  # Slack's redelivery, to the connection still open
                assert socket.wait_ack(socket.redeliver(envelope)).connection != old
        desk.settle()
    finally:
        successor.stop(timeout=5)
    assert sorted(t.description for t in tickets(desk)) == sorted(f"Message {n} during a deploy" for n in range(8))
    assert socket.violations == []


def test_malformed_envelopes_are_not_acked_and_logged_and_lose_nothing_after_them(socket_desk: Desk, caplog) -> None:
    """What Slack would never send (an event without its event, an interaction of no known type, a payload
    that is not an object): no ack, a log line naming the envelope's type, nothing written, and the
    connection keeps working."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    not_acked = envelopes("other", "not_acked") + envelopes("event", "not_acked")
    bad = [socket.send_event({"type": "event_callback", "event_id": "Ev0BROKEN"}),
           socket.send_interaction({"type": "no_such_thing", "trigger_id": "1.2.x"}),
           socket.send_event({"type": "event_callback", "event_id": "Ev0BROKEN2", "event": "not an object"})]
    eventually(lambda: envelopes("other", "not_acked") + envelopes("event", "not_acked") >= not_acked + len(bad),
               "the malformed envelopes counted as not acked", timeout=5)
    assert all(socket.ack_of(envelope) is None for envelope in bad)
    assert any("not acked" in r.getMessage() for r in caplog.records if r.name == "desk.socket_mode")
    good = desk.driver.send_event(a_message(desk, "After the junk: the parking permit page is down"))
    assert good.status == 200
    desk.settle()
    assert [t.description for t in tickets(desk)] == ["After the junk: the parking permit page is down"]


def test_while_slack_refuses_new_connections_desk_backs_off_then_reconnects(socket_desk: Desk) -> None:
    """The socket drops and apps.connections.open fails three times (Slack unreachable for a while): the
    attempts are spaced 1, 2, 4 s apart, not a tight loop, and the fourth connects."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    failed = metrics.PROCESS.get_sample_value("desk_socket_mode_connections_total", {"outcome": "failed"}) or 0.0
    desk.slack.inject("apps.connections.open", times=3, error="internal_error")
    dropped = socket.drop()
    socket.wait_new_connection(dropped, timeout=20)
    attempts = [c.at for c in desk.slack.calls_to("apps.connections.open")]
    assert len(attempts) == 4
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.9 and gaps[1] >= 1.9 and gaps[2] >= 3.9, gaps
    assert metrics.PROCESS.get_sample_value("desk_socket_mode_connections_total", {"outcome": "failed"}) == failed + 3
    assert desk.driver.send_event(a_message(desk, "After the outage: the waste calendar is wrong")).status == 200
    desk.settle()
    assert [t.description for t in tickets(desk)] == ["After the outage: the waste calendar is wrong"]


def test_slack_unreachable_at_start_is_retried_in_the_background_a_refused_token_is_not(socket_desk: Desk) -> None:
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    before = socket.wait_connections(1)[-1]
    desk.slack.inject("apps.connections.open", times=2, error="internal_error")
    runner = SocketModeRunner(desk.wiring.slack_app(), APP_TOKEN)
    started = time.monotonic()
    runner.start()  # returns at once: desk starts and serves $PORT while it keeps trying
    try:
        assert time.monotonic() - started < 1.0
        socket.wait_new_connection(before, timeout=15)
        assert len(desk.slack.calls_to("apps.connections.open")) == 3
    finally:
        runner.stop(timeout=5)
    desk.slack.inject("apps.connections.open", error="invalid_auth")
    refused = SocketModeRunner(desk.wiring.slack_app(), APP_TOKEN)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN was refused by Slack"):
        refused.start()
    refused.stop(timeout=1)


def test_health_reports_the_connection_and_fails_while_it_stays_down(socket_desk: Desk) -> None:
    """/healthz in Socket Mode: a process that cannot get through to Slack hears nothing, so after
    `unhealthy_after` without a connection it says so (a platform restarts it); a routine reconnection
    never gets that far."""
    desk = socket_desk
    socket, runner = desk.slack.socket_mode, desk.runner
    assert socket is not None and runner is not None
    health = desk.wiring.wsgi_app(socket_mode=True, app=runner.app, connection=runner.connection).health
    assert health() == (True, {"ok": True, "version": __version__, "database": "ok", "migrations": "current",
                               "slack": "connected"})
    runner.unhealthy_after = 1.0
    desk.slack.inject("apps.connections.open", times=3, error="internal_error")  # ~7 s of backing off
    dropped = socket.drop()
    deadline = time.monotonic() + 10
    while (state := health())[1]["slack"] == "connected":
        assert time.monotonic() < deadline, "the dropped socket was never noticed"
        time.sleep(0.1)
    assert state[0] is True and state[1]["slack"] == "reconnecting"  # down for less than a second so far
    time.sleep(1.1)
    ok, detail = health()
    assert (ok, detail["ok"], detail["slack"], detail["database"]) == (False, False, "reconnecting", "ok")
    assert detail["slack_down_seconds"] >= 1
    socket.wait_new_connection(dropped, timeout=20)
    healthy = eventually(lambda: (state := health())[0] and state, "healthy again once reconnected", timeout=10)
    assert healthy[1]["slack"] == "connected" and "slack_down_seconds" not in healthy[1]


def test_while_the_database_is_unreachable_each_envelope_is_answered_so_that_nothing_is_lost(
        socket_desk: Desk) -> None:
    """As over HTTP (desk/slack/unreachable.py): the event is not acked (Slack delivers it again), the
    command answers that nothing was saved, the form keeps its values with that error, the button is
    acked and its person told; Bolt never runs, nothing is written."""
    desk = socket_desk
    socket = desk.slack.socket_mode
    assert socket is not None
    down = Reachability(desk.engine, probe_every=3600)  # no probe during the test: it stays down
    down.lost("test: the database server stopped")
    runner = SocketModeRunner(desk.wiring.slack_app(), APP_TOKEN, database=down.problem,
                              notices=desk.wiring.listener_executor)
    runner.start()
    try:
        number = socket.wait_connections(2)[-1]
        event = socket.send_event(a_message(desk, "Card payments fail on the parking site"), connection=number)
        command = socket.send_command(desk.driver.slash_command("list", user=ALICE, user_team=CHERWELL,
                                                                channel=CHERWELL_CHANNEL), connection=number)
        form = socket.send_interaction(desk.driver.view_submission(
            View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
            values={Block.TITLE: {Input.VALUE: "Parking permits page is down"}}), connection=number)
        click = socket.send_interaction(desk.driver.block_action(
            Action.CLAIM, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE, value=TicketRef(ref="CHW-9").dump(),
            message_ts="1700000000.000100"), connection=number)
        assert socket.wait_ack(command).payload == {"response_type": "ephemeral", "text": UNREACHABLE_TEXT}
        assert socket.wait_ack(form).payload == {"response_action": "errors",
                                                 "errors": {Block.TITLE: UNREACHABLE_TEXT}}
        assert socket.wait_ack(click).after < 3
        told = desk.slack.wait_for("response_url", timeout=10)[0]
        assert told.args["text"] == UNREACHABLE_TEXT
        time.sleep(0.5)
        assert socket.ack_of(event) is None  # not taken: Slack delivers it again
    finally:
        runner.stop(timeout=5)
    desk.settle()
    assert tickets(desk) == []
    with Session(desk.engine) as session:
        assert session.exec(select(InboxRow)).all() == []  # nothing stored, not even the event
    assert socket.wait_ack(socket.redeliver(event)).after < 3  # the database back (the other runner)
    desk.settle()
    assert [t.description for t in tickets(desk)] == ["Card payments fail on the parking site"]
