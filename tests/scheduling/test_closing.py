"""The worker's closing pass: batch after batch, one ticket's failure isolated, legacy resolved tickets
scheduled, and two workers at once closing (and telling) each ticket exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import select

from desk.db import queries
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow, TicketEventRow
from desk.services import closing, tickets
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ALICE, CHERWELL_CHANNEL, ENGINEER, MONDAY

CLOSES = datetime(2026, 1, 12, 17, 0, tzinfo=UTC)  # resolved Mon 5 Jan 09:00: five working days on


def resolved_tickets(engine: Engine, count: int, *, threads: bool = False) -> None:
    with unit_of_work(engine) as session:
        for n in range(1, count + 1):
            thread = {"slack_channel": CHERWELL_CHANNEL, "slack_ts": f"1767603600.{n:06d}"} if threads else {}
            t = tickets.open_ticket(session, council_id="cherwell", title=f"Refund {n} stuck", actor=ALICE,
                                    at=MONDAY, **thread)
            tickets.resolve(session, ref=t.ref, note="Refunded", actor=ENGINEER, at=MONDAY)


def statuses(engine: Engine) -> Counter:
    with unit_of_work(engine) as session:
        return Counter(t.status for t in queries.list_tickets(session))


def test_a_backlog_closes_batch_by_batch_in_one_pass(rig: Rig) -> None:
    resolved_tickets(rig.engine, 25)
    rig.clock.at = CLOSES - timedelta(seconds=1)
    work = rig.wiring.worker(channel_pace=0, enqueue_digests=None, close_batch=10)
    assert work.close().closed == []
    rig.clock.at = CLOSES + timedelta(days=3)  # after downtime
    report = work.close()
    assert len(report.closed) == 25 and report.skipped == []
    assert statuses(rig.engine) == {"closed": 25}
    with unit_of_work(rig.engine) as session:
        assert closing.next_close_at(session) is None  # nothing left for the pass to look at


def test_one_broken_ticket_does_not_stop_the_others(rig: Rig) -> None:
    resolved_tickets(rig.engine, 3)
    with rig.engine.begin() as connection:  # a ticket whose SLA rows are damaged: its SLA cannot be loaded
        connection.execute(text("UPDATE sla_clock SET clock = 'lunar' WHERE ticket_id = "
                                "(SELECT id FROM ticket WHERE ref = 'CHW-2')"))
    rig.clock.at = CLOSES
    report = rig.wiring.worker(enqueue_digests=None).close()
    assert report.closed == ["CHW-1", "CHW-3"] and report.skipped == ["CHW-2"]
    with unit_of_work(rig.engine) as session:
        assert queries.get_ticket(session, "CHW-2").status == "resolved"


def test_tickets_resolved_before_closing_existed_are_scheduled_then_closed(rig: Rig) -> None:
    resolved_tickets(rig.engine, 1)
    with rig.engine.begin() as connection:
        connection.execute(text("UPDATE ticket SET close_due_at = NULL"))
    work = rig.wiring.worker(enqueue_digests=None)
    report = work.close()
    assert report.scheduled == 1 and report.closed == []
    with unit_of_work(rig.engine) as session:
        assert queries.get_ticket(session, "CHW-1").close_due_at == CLOSES
    rig.clock.at = CLOSES
    assert work.close().closed == ["CHW-1"]


def test_two_workers_close_and_tell_each_ticket_once(rig: Rig, database_url: str) -> None:
    count = 30
    resolved_tickets(rig.engine, count, threads=True)
    rig.clock.at = CLOSES + timedelta(minutes=1)
    engines: list[Engine] = []
    workers = []
    for _ in range(2):  # two processes' worth: separate engines and pools
        engine = make_engine(database_url)
        engines.append(engine)
        rig.wiring.__dict__["engine"] = engine
        workers.append(rig.wiring.worker(channel_pace=0, enqueue_digests=None, close_batch=7))
    rig.wiring.__dict__["engine"] = rig.engine
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(work) -> None:
        try:
            start.wait()
            for _ in range(3):
                work.run_once()
        except BaseException as err:  # the assertion below reports it
            errors.append(err)

    running = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert statuses(rig.engine) == {"closed": count}
    with unit_of_work(rig.engine) as session:
        closed = session.exec(select(TicketEventRow.ticket_id).where(TicketEventRow.type == "closed")).all()
        told = session.exec(select(OutboxRow).where(OutboxRow.kind == "closed")).all()
    assert Counter(closed) == {ticket_id: 1 for ticket_id in set(closed)} and len(closed) == count
    assert len(told) == count and all(row.status == "sent" for row in told)
    posts = [c for c in rig.slack.calls_to("chat.postMessage") if c.ok and "is now closed" in c.args["text"]]
    assert sorted(c.args["thread_ts"] for c in posts) == [f"1767603600.{n:06d}" for n in range(1, count + 1)]


def test_the_closing_pass_reads_through_its_index(rig: Rig) -> None:
    if rig.engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner rightly scans a tiny table; the index's shape is checked in tests/db
    resolved_tickets(rig.engine, 3)
    with unit_of_work(rig.engine) as session:  # the query `closing.close_due` sends (without FOR UPDATE)
        plan = session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE close_due_at IS NOT NULL AND close_due_at <= ? "
            "ORDER BY close_due_at LIMIT 100", (CLOSES.isoformat(),)).all()
    assert "SEARCH ticket USING COVERING INDEX ix_ticket_close_due_at" in " ".join(str(row) for row in plan), plan
