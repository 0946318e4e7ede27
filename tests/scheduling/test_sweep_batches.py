"""The worker's sweep job drains a backlog in batches, in one run, however the batches are made up.

A batch is a number of `sla_clock` rows, in due order; a ticket due on both its respond and resolve clocks
can have both rows in one batch, which then holds fewer tickets than rows although more are due.
Test playbook: P1 is 24x7, respond 30m (steps at 22.5m and 30m), resolve 4h (steps at 3h and 4h).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow, TicketEventRow, TicketRow
from desk.services import audit, escalation, tickets
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ALICE, MONDAY

P1_TITLE = "We cannot take card payments at all"


def open_p1s(rig: Rig, count: int, *, after: timedelta = timedelta()) -> None:
    rig.clock.at = MONDAY + after
    with unit_of_work(rig.engine) as session:
        for _ in range(count):
            tickets.open_ticket(session, council_id="cherwell", title=P1_TITLE, actor=ALICE, at=rig.clock.now(),
                                requester=ALICE)


def steps_due(rig: Rig) -> int:
    with unit_of_work(rig.engine) as session:
        return escalation.steps_due(session, now=rig.clock.now())


def test_one_sweep_run_drains_a_backlog_whose_first_batch_holds_both_clocks_of_a_ticket(rig: Rig) -> None:
    open_p1s(rig, 1)  # due at 0:22:30 (respond) and 3:00 (resolve)
    open_p1s(rig, 98, after=timedelta(hours=2, minutes=30))  # due at 2:52:30 (respond); resolve at 5:30
    open_p1s(rig, 5, after=timedelta(hours=4))  # due at 4:22:30 (respond)
    rig.clock.at = MONDAY + timedelta(hours=5)
    assert steps_due(rig) == 2 + 98 + 5  # the first 100 rows in due order: 99 tickets
    report = rig.worker().sweep()
    assert (report.tickets, report.sent, report.skipped) == (104, 104, [])
    assert steps_due(rig) == 0


def test_a_smaller_batch_drains_the_same_backlog(rig: Rig) -> None:
    open_p1s(rig, 25)
    rig.clock.at = MONDAY + timedelta(hours=5)
    report = rig.wiring.worker(channel_pace=0, enqueue_digests=None, sweep_batch=7).sweep()
    assert (report.tickets, report.sent) == (25, 25)
    assert steps_due(rig) == 0


def test_a_ticket_that_cannot_be_swept_costs_only_itself(rig: Rig) -> None:
    """The batch is worked together; when it fails, it is worked again ticket by ticket, a savepoint each."""
    open_p1s(rig, 3)
    with unit_of_work(rig.engine) as session:
        broken = session.exec(select(TicketRow).order_by(TicketRow.id)).all()[1]
        broken.priority = "P9"  # no such target in its playbook: its step cannot be worked out
        session.add(broken)
        broken_id = broken.id
    rig.clock.at = MONDAY + timedelta(minutes=23)
    with unit_of_work(rig.engine) as session:
        report = escalation.sweep(session, now=rig.clock.now())
    assert (report.tickets, report.sent, report.skipped) == (2, 2, [str(broken_id)])
    with unit_of_work(rig.engine) as session:
        rows = session.exec(select(OutboxRow.ticket_id)).all()
        escalated = session.exec(select(TicketEventRow.ticket_id).where(TicketEventRow.type == "escalated")).all()
        assert sorted(rows) == sorted(escalated) and broken_id not in rows and len(rows) == 2
        assert all(report.ok for report in audit.verify_all(session))
    assert steps_due(rig) == 1  # left due: the next sweep tries it again
