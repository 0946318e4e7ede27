"""Acks first (desk/turns.py): the work after an ack waits while Slack's requests are answered.

Through the real web app, the real Bolt app and its listener executor: the request being answered is the
web front's own gate held open (`answering`, what the front wraps around every Slack request), and the
work is a council's message that opens a ticket after its ack.
"""

from __future__ import annotations

import threading
import time

from sqlmodel import Session, select

from desk.db.tables import InboxRow, TicketRow
from desk.slack.executor import ListenerExecutor
from desk.turns import AcksFirst
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, Desk


def tickets(desk: Desk) -> list[TicketRow]:
    with Session(desk.engine) as session:
        return list(session.exec(select(TicketRow)).all())


def ask(desk: Desk, text: str) -> None:
    message = desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(message).status == 200


def test_a_ticket_opens_once_slacks_requests_stop_being_answered(desk: Desk) -> None:
    """The ack is given and the request stored at once; the ticket waits while another request is being
    answered, and opens once none is."""
    desk.wiring.listener_executor.patience = 30  # longer than this test: only the quiet lets the work through
    with desk.wiring.acks_first.answering():
        ask(desk, "Card payments fail on the parking permits page")
        time.sleep(0.3)
        assert tickets(desk) == [] and desk.slack.calls == []
        with Session(desk.engine) as session:  # acked means kept: the row is there before any work
            assert len(session.exec(select(InboxRow)).all()) == 1
    desk.settle()
    (ticket,) = tickets(desk)
    assert ticket.ref == "CHW-1"
    assert [c.method for c in desk.slack.calls][:1] == ["chat.postMessage"]


def test_work_waits_no_longer_than_its_patience_under_requests_that_never_stop(desk: Desk) -> None:
    """A front that is never quiet does not starve the work: it starts once it has waited its patience."""
    desk.wiring.listener_executor.patience = 0.2
    with desk.wiring.acks_first.answering():
        ask(desk, "Direct debit file rejected by the bank")
        desk.settle()  # still answering: the work went ahead anyway
        assert [t.ref for t in tickets(desk)] == ["CHW-1"]


def test_the_gate_waits_for_quiet_after_the_last_answer_and_not_while_idle() -> None:
    gate = AcksFirst(quiet=0.2)
    assert gate.wait_turn(5) < 0.1  # nothing answered yet: no wait
    with gate.answering():
        pass
    waited = gate.wait_turn(5)
    assert 0.15 <= waited < 2  # the quiet after the last answer, not the patience
    assert gate.wait_turn(5) < 0.1  # quiet since: no wait


def test_the_gate_lets_work_through_the_moment_its_patience_runs_out() -> None:
    gate = AcksFirst(quiet=0.01)
    held, release = threading.Event(), threading.Event()

    def answering() -> None:
        with gate.answering():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=answering)
    thread.start()
    try:
        held.wait(5)
        began = gate.now()
        waited = gate.wait_turn(0.3, since=began - 0.2)  # handed over 0.2 s ago: 0.1 s of patience left
        assert 0.05 <= waited < 1
    finally:
        release.set()
        thread.join()


def test_a_worker_job_in_the_web_process_runs_once_the_front_is_quiet(desk: Desk) -> None:
    """On SQLite the web process runs the worker's jobs: a run waits while a Slack request is answered (at
    most JOB_PATIENCE), then runs; a worker without the gate (a `desk worker` of its own) never waits."""
    gate = desk.wiring.acks_first
    worker = desk.wiring.worker(enqueue_digests=None, channel_pace=0, turns=gate)
    (dispatch,) = [job for job in worker.jobs() if job.id == "dispatch"]
    released = threading.Event()

    def answering_for(seconds: float) -> None:
        with gate.answering():
            time.sleep(seconds)
            released.set()

    front = threading.Thread(target=answering_for, args=(0.5,))
    front.start()
    time.sleep(0.05)
    began = time.monotonic()
    worker._patient(dispatch)()
    took = time.monotonic() - began
    front.join()
    assert released.is_set() and 0.4 <= took < 2.0  # it ran after the answer, within its patience

    alone = desk.wiring.worker(enqueue_digests=None, channel_pace=0)
    (dispatch,) = [job for job in alone.jobs() if job.id == "dispatch"]
    front = threading.Thread(target=answering_for, args=(0.5,))
    front.start()
    time.sleep(0.05)
    began = time.monotonic()
    alone._patient(dispatch)()
    assert time.monotonic() - began < 0.4
    front.join()


class CountingGate(AcksFirst):
    """The gate, counting the pieces of work inside `wait_turn` at once."""

    def __init__(self) -> None:
        super().__init__(quiet=0.01)
        self.inside = self.most = 0
        self._counting = threading.Lock()

    def wait_turn(self, patience: float, *, since: float | None = None) -> float:
        with self._counting:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            return super().wait_turn(patience, since=since)
        finally:
            with self._counting:
                self.inside -= 1


def test_one_piece_of_waiting_work_watches_the_gate_and_each_keeps_its_patience() -> None:
    """Work waiting its turn does not wake every thread of the executor to look at the gate: one watches,
    the rest wait behind it, and each still starts once its own patience has run out."""
    gate = CountingGate()
    executor = ListenerExecutor(8, turns=gate, patience=0.3)
    ran: list[tuple[int, float]] = []
    try:
        with gate.answering():
            began = time.monotonic()
            for n in range(6):
                executor.submit(lambda n=n: ran.append((n, time.monotonic() - began)))
            assert executor.drain(5)
    finally:
        executor.shutdown(wait=True)
    assert gate.most == 1
    assert sorted(n for n, _ in ran) == list(range(6))
    assert all(0.25 <= after < 1.5 for _, after in ran)  # its patience (0.3 s), and not much more
