"""The durable receipt through the real Bolt app (desk/slack/receipt.py): an event with work after its ack
is stored before the ack, worked, marked done; a retry of one desk has is acked without new work; what a
dead process acked and did not finish is worked again, through the same listener, once its lease is over;
an event that cannot be stored in time is answered 503, so Slack delivers it again."""

from __future__ import annotations

import json

from slack_bolt import BoltRequest
from sqlmodel import Session, select

from desk.db.engine import unit_of_work
from desk.db.tables import InboxRow, TicketRow
from desk.observability import metrics
from desk.services import inbox
from desk.slack.context import UNREACHABLE_TEXT
from desk.slack.ids import Block, Input, View
from desk.slack.receipt import receipt_of
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, MONDAY, TRIAGE, Desk


def a_message(desk: Desk, text: str = "Refund to a resident failed with error 51") -> dict:
    return desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)


def count(outcome: str, kind: str = "message") -> float:
    return metrics.PROCESS.get_sample_value("desk_inbox_total", {"kind": kind, "outcome": outcome}) or 0.0


def rows(desk: Desk) -> list[InboxRow]:
    with Session(desk.engine) as session:
        return list(session.exec(select(InboxRow).order_by(InboxRow.received_at)).all())


def tickets(desk: Desk) -> list[TicketRow]:
    with Session(desk.engine) as session:
        return list(session.exec(select(TicketRow).order_by(TicketRow.number)).all())


def cards(desk: Desk) -> list:
    return [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == TRIAGE]


def left_by_a_dead_process(desk: Desk, body: dict) -> None:
    """What a web process that stored and acked `body`, then was SIGKILLed before its work, leaves behind."""
    found = receipt_of(body)
    assert found is not None
    assert inbox.store(desk.engine, kind=found[0], key=found[1], payload=json.dumps(body), at=desk.clock.now(),
                       lease=desk.wiring.receipts.lease, within=1.0)


def hold_the_inbox(desk: Desk, holder: Session) -> None:
    """Hold what storing in the inbox needs (SQLite: the write lock; PostgreSQL: the table), until `holder` ends."""
    if desk.engine.dialect.name == "postgresql":
        holder.connection().exec_driver_sql("LOCK TABLE inbox IN EXCLUSIVE MODE")
    else:
        holder.add(InboxRow(key="event:holder", kind="message", payload="{}", received_at=MONDAY,
                            leased_until=MONDAY, done_at=MONDAY))
        holder.flush()


def an_intake_form(desk: Desk, title: str) -> dict:
    return desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
                                       values={Block.TITLE: {Input.VALUE: title},
                                               Block.DESCRIPTION: {Input.VALUE: "Since the upgrade last night"}})


def test_a_message_is_stored_before_its_work_and_marked_done_by_it(desk: Desk) -> None:
    stored = count("stored")
    body = a_message(desk)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    (row,) = rows(desk)
    assert (row.key, row.kind, row.received_at, row.attempts) == (f"event:{body['event_id']}", "message", MONDAY, 0)
    assert json.loads(row.payload) == body  # as Slack sent it
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]
    with Session(desk.engine) as session:
        assert inbox.finished(session, row.key) and inbox.unfinished(session) == 0
    assert count("stored") == stored + 1


def test_an_event_the_listener_ignores_is_marked_done_not_reworked(desk: Desk) -> None:
    """An edit (a subtype desk does not act on) and a bot's post: stored, worked (ignored), marked done."""
    edit = desk.driver.message("edited", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                               subtype="message_changed")
    bot = desk.driver.message("a bot speaks", user=None, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                              bot_id="B0OTHERBOT")
    for body in (edit, bot):
        assert desk.driver.send_event(body).status == 200
    desk.settle()
    assert [r.done_at for r in rows(desk)] == [MONDAY, MONDAY]
    desk.clock.advance(hours=1)
    assert desk.wiring.worker(enqueue_digests=None).inbox() == 0
    assert tickets(desk) == []


def test_slack_retrying_an_event_desk_stored_gets_200_and_no_new_work(desk: Desk) -> None:
    """The process that acked it died before the work; Slack's retry (it did not see the 200 in time) must
    not start the work a second time beside the rework: it is acked, and nothing else happens."""
    body = a_message(desk)
    left_by_a_dead_process(desk, body)
    redelivered = count("redelivered")
    answer = desk.driver.send_event(body, retry_num=1, retry_reason="http_timeout")
    assert answer.status == 200
    desk.settle()
    assert tickets(desk) == [] and desk.slack.calls == []  # no work: not even users.info
    assert count("redelivered") == redelivered + 1
    assert [r.done_at for r in rows(desk)] == [None]


def test_what_a_dead_process_acked_is_worked_again_after_the_lease_once(desk: Desk) -> None:
    body = a_message(desk, "Council tax direct debits failed overnight")
    left_by_a_dead_process(desk, body)
    worker = desk.wiring.worker(enqueue_digests=None)
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds() - 1)
    assert worker.inbox() == 0  # the process that acked it may still be at work
    desk.clock.advance(seconds=1)
    reworked = count("reworked")
    assert worker.inbox() == 1
    assert [(t.ref, t.description, t.slack_ts) for t in tickets(desk)] == [
        ("CHW-1", "Council tax direct debits failed overnight", body["event"]["ts"])]
    assert len(cards(desk)) == 1  # announced as a live message is
    assert count("reworked") == reworked + 1
    (row,) = rows(desk)
    assert row.attempts == 1 and row.done_at == desk.clock.now()
    desk.clock.advance(hours=1)
    assert worker.inbox() == 0 and len(tickets(desk)) == 1


def test_a_backlog_left_by_a_crash_is_worked_again_several_at_a_time(desk: Desk) -> None:
    """The work mostly waits on Slack: four rows reworked one after another would take four times as long
    (a backlog of hundreds after a crash took minutes). Each row's first post waits 1.5 s here; they all
    reach Slack before the first has its answer, and each row still opens one ticket."""
    texts = [f"Direct debit run {n} failed overnight" for n in range(4)]
    for text in texts:
        left_by_a_dead_process(desk, a_message(desk, text))
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    desk.slack.inject("chat.postMessage", times=4, latency=1.5)
    assert desk.wiring.worker(enqueue_digests=None).inbox() == 4
    first_posts = sorted(c.at for c in desk.slack.calls_to("chat.postMessage"))[:4]
    assert first_posts[-1] - first_posts[0] < 1.5, "the rows were reworked one after another"
    assert sorted(t.description for t in tickets(desk)) == sorted(texts)
    assert len(cards(desk)) == 4
    with Session(desk.engine) as session:
        assert inbox.unfinished(session) == 0


def test_a_reaction_is_kept_too_and_its_rework_opens_one_ticket(desk: Desk) -> None:
    message = a_message(desk, "Our planning portal shows a blank page")
    desk.slack.add_message(message)  # the message the reaction is on
    reaction = desk.driver.reaction_added("ticket", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                          item_ts=message["event"]["ts"], item_user=ALICE)
    left_by_a_dead_process(desk, reaction)
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    assert desk.wiring.worker(enqueue_digests=None).inbox() == 1
    assert [t.description for t in tickets(desk)] == ["Our planning portal shows a blank page"]
    assert [r.kind for r in rows(desk)] == ["reaction_added"]
    with Session(desk.engine) as session:
        assert inbox.unfinished(session) == 0


def test_an_event_that_cannot_be_stored_in_time_is_answered_503_and_stored_when_slack_retries(desk: Desk) -> None:
    """The database is reachable but slow (another transaction holds the lock the INSERT needs): the ack
    does not wait past its bound; Slack gets 503 and delivers the event again."""
    desk.wiring.receipts.store_within = 0.2
    body = a_message(desk)
    refused = count("refused")
    with unit_of_work(desk.engine) as holder:
        hold_the_inbox(desk, holder)
        answer = desk.driver.send_event(body)
    assert answer.status == 503
    assert count("refused") == refused + 1
    desk.settle()
    assert tickets(desk) == []
    assert desk.driver.send_event(body, retry_num=1, retry_reason="http_error").status == 200
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]


def test_the_backlog_of_unfinished_rows_is_in_metrics(desk: Desk) -> None:
    left_by_a_dead_process(desk, a_message(desk, "one"))
    left_by_a_dead_process(desk, a_message(desk, "two"))
    assert desk.wiring.metrics.get_sample_value("desk_inbox_unfinished") == 2
    desk.clock.advance(hours=1)
    desk.wiring.worker(enqueue_digests=None).inbox()
    assert desk.wiring.metrics.get_sample_value("desk_inbox_unfinished") == 0


def test_a_form_submitted_to_a_process_that_died_is_worked_again(desk: Desk) -> None:
    """After the ack the modal has closed: the person believes it saved. The rework opens the ticket."""
    form = an_intake_form(desk, "Parking permits page is down")
    left_by_a_dead_process(desk, form)
    assert desk.driver.send_interaction(form).status == 200  # a double submit: acked, no new work
    desk.settle()
    assert tickets(desk) == []
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    assert desk.wiring.worker(enqueue_digests=None).inbox() == 1
    assert [(t.ref, t.title) for t in tickets(desk)] == [("CHW-1", "Parking permits page is down")]
    assert [(r.kind, r.key) for r in rows(desk)] == [(View.INTAKE, f"view:{form['view']['id']}:{form['trigger_id']}")]
    with Session(desk.engine) as session:
        assert inbox.unfinished(session) == 0


def test_a_form_that_cannot_be_stored_in_time_stays_open_with_the_reason(desk: Desk) -> None:
    desk.wiring.receipts.store_within = 0.2
    form = an_intake_form(desk, "Bins were not collected on Elm Road")
    with unit_of_work(desk.engine) as holder:
        hold_the_inbox(desk, holder)
        answer = desk.driver.send_interaction(form)
    assert answer.status == 200
    assert answer.json() == {"response_action": "errors", "errors": {Block.TITLE: UNREACHABLE_TEXT}}
    desk.settle()
    assert tickets(desk) == []
    assert desk.driver.send_interaction(form).status == 200  # the person submits again
    desk.settle()
    assert [t.title for t in tickets(desk)] == ["Bins were not collected on Elm Road"]


def test_over_socket_mode_the_event_is_stored_before_its_ack_too(desk: Desk) -> None:
    """The store is Bolt middleware, not the HTTP front: a Socket Mode delivery (a parsed body, no
    signature) goes through it the same way."""
    app = desk.wiring.slack_app()
    body = a_message(desk, "Housing benefit portal rejects uploads")
    first = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    again = app.dispatch(BoltRequest(body=body, mode="socket_mode", headers={"x-slack-retry-num": "1"}))
    assert (first.status, again.status) == (200, 200)
    desk.settle()
    assert [(r.key, json.loads(r.payload)) for r in rows(desk)] == [(f"event:{body['event_id']}", body)]
    assert [t.description for t in tickets(desk)] == ["Housing benefit portal rejects uploads"]


def test_slack_retrying_a_stored_event_is_answered_while_a_writer_holds_the_lock(desk: Desk) -> None:
    """Slack retries because an answer was late, so desk is most likely busy: the retry of an event desk
    has is found by a read that queues behind no writer, and acked at once without new work."""
    desk.wiring.receipts.store_within = 0.2
    body = a_message(desk)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    redelivered, refused = count("redelivered"), count("refused")
    with unit_of_work(desk.engine) as holder:
        hold_the_inbox(desk, holder)
        answer = desk.driver.send_event(body, retry_num=1, retry_reason="http_timeout")
        fresh = desk.driver.send_event(a_message(desk, "A new one, which must be stored"))
    assert (answer.status, fresh.status) == (200, 503)  # the held lock is real: a new event cannot be stored
    assert (count("redelivered"), count("refused")) == (redelivered + 1, refused + 1)
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]
