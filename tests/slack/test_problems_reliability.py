"""Problems under double clicks, redelivery and Slack failing: one link per ticket, one problem per form,
one post per update × thread, and the problem's triage message posted exactly once (by the worker when
Slack refused it at first), then updated in place with every change made meanwhile."""

from __future__ import annotations

import json

from sqlmodel import func, select

from desk.db.engine import unit_of_work
from desk.db.tables import ProblemEventRow, ProblemRow
from desk.sandbox.faults import Fault
from desk.sandbox.interactions import static_select_value
from desk.services import inbox
from desk.slack.ids import Block, Input, View
from desk.slack.receipt import receipt_of
from tests.slack.conftest import ENGINEER, SUPPORT, TRIAGE, Desk
from tests.slack.problem_steps import (  # noqa: F401  (test_playbooks: the fixture with a fourth council)
    COUNCILS,
    LINK,
    click,
    people,
    problem_message,
    raise_ticket,
    send,
    test_playbooks,
    thread_posts,
)


def events(desk: Desk, kind: str) -> int:
    with unit_of_work(desk.engine) as session:
        return session.exec(select(func.count()).select_from(ProblemEventRow)
                            .where(ProblemEventRow.type == kind)).one()


def message_posts(desk: Desk) -> int:
    return sum(1 for c in desk.slack.calls_to("chat.postMessage")
               if c.ok and c.args["channel"] == TRIAGE and c.args["text"].startswith("Problem PRB-"))


def test_double_submits_and_redelivered_commands_have_one_effect(desk: Desk) -> None:
    people(desk)
    threads = {council: raise_ticket(desk, council) for council in ("cherwell", "fife")}
    click(desk, LINK, "CHW-1")
    click(desk, LINK, "CHW-1")  # a double click opens the form twice
    first, second = [c.args["view"] for c in desk.slack.calls_to("views.open")[-2:]]
    values = {Block.PROBLEM_TITLE: {Input.VALUE: "Pay timeouts"}, Block.PROBLEM_SUMMARY: {Input.VALUE: "Timeouts."}}
    submit = desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=first,
                                         values=values)
    send(desk, submit)
    send(desk, submit)  # the same submission again (Slack's retry, a double press)
    send(desk, desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=second,
                                           values=values))  # the second form: the ticket is already linked
    with unit_of_work(desk.engine) as session:
        assert session.exec(select(func.count()).select_from(ProblemRow)).one() == 1
    assert events(desk, "linked") == 1 and message_posts(desk) == 1
    told = [c.args["text"] for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] == ENGINEER]
    assert told == ["CHW-1 is linked to PRB-1: unlink it first"], told  # the second form, refused politely

    click(desk, LINK, "FIFE-1")
    fife_form = desk.slack.last("views.open").args["view"]
    chosen = desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=fife_form,
                                         values={Block.PROBLEM: {Input.VALUE: static_select_value("1")}})
    send(desk, chosen)
    send(desk, chosen)
    assert events(desk, "linked") == 2

    form = desk.driver.slash_command("problem update PRB-1 The supplier is on it.", user=ENGINEER,
                                     user_team=SUPPORT, channel=TRIAGE)
    for _ in range(2):  # the same command delivered twice
        assert desk.driver.send_form(form).status == 200
        desk.settle()
    assert events(desk, "updated") == 1
    for council, (_, thread_ts) in threads.items():
        posts = thread_posts(desk, COUNCILS[council][2], thread_ts)
        assert sum("The supplier is on it." in p for p in posts) == 1, council
    assert message_posts(desk) == 1
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 0


def test_a_problem_message_slack_refuses_is_posted_once_by_the_worker_with_what_changed_meanwhile(
        desk: Desk) -> None:
    people(desk)
    raise_ticket(desk, "cherwell")
    raise_ticket(desk, "fife")
    refused = Fault(error="internal_error")
    with desk.slack.outage(refused, methods="chat.postMessage", where={"channel": TRIAGE}):
        click(desk, LINK, "CHW-1")
        send(desk, desk.driver.view_submission(
            View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=desk.slack.last("views.open").args["view"],
            values={Block.PROBLEM_TITLE: {Input.VALUE: "Pay timeouts"}}))
        click(desk, LINK, "FIFE-1")
        send(desk, desk.driver.view_submission(
            View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=desk.slack.last("views.open").args["view"],
            values={Block.PROBLEM: {Input.VALUE: static_select_value("1")}}))
    assert events(desk, "linked") == 2, "the links are made whatever Slack does"
    assert message_posts(desk) == 0
    with unit_of_work(desk.engine) as session:
        assert session.get(ProblemRow, 1).triage_ts is None

    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.advance(minutes=20)  # past every backoff
    worker.dispatcher.drain()
    assert message_posts(desk) == 1
    shown = problem_message(desk)
    assert "CHW-1" in shown and "FIFE-1" in shown
    desk.clock.advance(minutes=20)
    assert worker.dispatcher.drain().sent == 0 and message_posts(desk) == 1


def test_an_update_slack_refuses_in_one_council_reaches_it_once_from_the_worker(desk: Desk) -> None:
    people(desk)
    threads = {council: raise_ticket(desk, council) for council in ("cherwell", "fife")}
    click(desk, LINK, "CHW-1")
    send(desk, desk.driver.view_submission(
        View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=desk.slack.last("views.open").args["view"],
        values={Block.PROBLEM_TITLE: {Input.VALUE: "Pay timeouts"}}))
    click(desk, LINK, "FIFE-1")
    send(desk, desk.driver.view_submission(
        View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=desk.slack.last("views.open").args["view"],
        values={Block.PROBLEM: {Input.VALUE: static_select_value("1")}}))

    fife_channel = COUNCILS["fife"][2]
    with desk.slack.outage(Fault(error="internal_error"), methods="chat.postMessage",
                           where={"channel": fife_channel}):
        form = desk.driver.slash_command("problem update PRB-1 The supplier is on it.", user=ENGINEER,
                                         user_team=SUPPORT, channel=TRIAGE)
        assert desk.driver.send_form(form).status == 200
        desk.settle()

    def told(council: str) -> int:
        channel, thread_ts = COUNCILS[council][2], threads[council][1]
        return sum("The supplier is on it." in p for p in thread_posts(desk, channel, thread_ts))

    assert (told("cherwell"), told("fife")) == (1, 0)
    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.advance(minutes=20)
    assert worker.dispatcher.drain().sent == 1
    assert (told("cherwell"), told("fife")) == (1, 1)
    desk.clock.advance(minutes=20)
    assert worker.dispatcher.drain().sent == 0 and told("fife") == 1


def test_a_link_form_submitted_to_a_process_that_died_is_worked_again_once(desk: Desk) -> None:
    """The form closed at the ack, so the engineer believes the ticket is linked: the inbox's rework links it."""
    people(desk)
    raise_ticket(desk, "cherwell")
    click(desk, LINK, "CHW-1")
    form = desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT,
                                       view=desk.slack.last("views.open").args["view"],
                                       values={Block.PROBLEM_TITLE: {Input.VALUE: "Pay timeouts"}})
    found = receipt_of(form)
    assert found is not None and found[0] == View.LINK_PROBLEM, "the link form is kept in the inbox"
    assert inbox.store(desk.engine, kind=found[0], key=found[1], payload=json.dumps(form), at=desk.clock.now(),
                       lease=desk.wiring.receipts.lease, within=1.0)  # stored and acked, then the process died
    assert desk.driver.send_interaction(form).status == 200  # Slack's retry: acked, no new work
    desk.settle()
    assert events(desk, "linked") == 0
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    worker = desk.wiring.worker(enqueue_digests=None, channel_pace=0)
    assert worker.inbox() == 1
    assert events(desk, "linked") == 1 and events(desk, "opened") == 1
    worker.dispatcher.drain()
    assert message_posts(desk) == 1 and "CHW-1" in problem_message(desk)
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    assert worker.inbox() == 0 and events(desk, "linked") == 1
