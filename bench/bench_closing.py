"""Benchmark: one closing pass with 100 tickets due to close, as resolved-but-not-yet-due tickets grow,
beside a pass that works out every resolved ticket's closing instant each time.

The worker's closing pass (`closing.close_due`) finds what is due through the partial index on
`ticket.close_due_at`, stored when a ticket is resolved; its cost should not grow with the tickets still
waiting to close. The baseline is what desk would do without the stored instant: read every resolved
ticket and compute its instant on its council's calendar (`tickets.close_due_at_for`), then close those due.
Both close the same kind of 100 due tickets on the same database in the same run; each must close exactly
100 (exit status 1 if not).

    .venv/bin/python bench/bench_closing.py --quick     # 1k and 5k waiting, about a minute
    .venv/bin/python bench/bench_closing.py             # 1k, 10k, 30k waiting, a few minutes
    .venv/bin/python bench/bench_closing.py --database postgresql+psycopg://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from seeding import NOW, TICKETS, Seeder, fresh_database
from sqlalchemy import text, update
from sqlmodel import Session, select

from desk.db import migrate, queries
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import TicketRow
from desk.services import closing, tickets

DUE = 100
RESOLVED_AT = NOW - timedelta(hours=1)  # the waiting clones: Wednesday 10:00, so they close next Wednesday
DUE_RESOLVED_AT = NOW - timedelta(days=8)  # Tue 24 Feb 11:00: five working days on is Tue 3 Mar 17:00


def make_due(engine, count: int) -> None:
    """`count` real tickets, opened and resolved through the services, already due to close (untimed)."""
    with unit_of_work(engine) as session:
        for _ in range(count):
            t = tickets.open_ticket(session, council_id="cherwell", title="Card payments failing",
                                    at=DUE_RESOLVED_AT - timedelta(hours=1), actor="U0BENCH", priority="P2")
            tickets.resolve(session, ref=t.ref, note="Fixed", actor="U0ENGINEER", at=DUE_RESOLVED_AT)


def naive_pass(session: Session) -> int:
    """Without the stored instant: every resolved ticket's closing instant, worked out now."""
    closed = 0
    for ticket in session.exec(select(TicketRow).where(TicketRow.status == "resolved")).all():
        council = queries.get_council(session, ticket.council_id)
        if tickets.close_due_at_for(session, ticket, council) <= NOW:
            tickets.close(session, ref=ticket.ref, actor="desk", at=NOW)
            closed += 1
    return closed


def tick(engine, run: Callable[[Session], int]) -> float:
    make_due(engine, DUE)
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        closed = run(session)
    seconds = time.perf_counter() - began
    if closed != DUE:
        print(f"FAILED: a pass closed {closed} tickets, expected {DUE}", file=sys.stderr)
        sys.exit(1)
    return seconds


def desk_pass(session: Session) -> int:
    return len(closing.close_due(session, now=NOW, batch=DUE).closed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 5k waiting tickets")
    parser.add_argument("--database", help="a server URL (a fresh database is created on it) or a new SQLite file")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = (1_000, 5_000) if args.quick else (1_000, 10_000, 30_000)
    print("### Closing pass: 100 due, as tickets waiting to close grow\n")
    print(f"Python {platform.python_version()}, {platform.machine()}; {args.repeats} passes each; "
          "milliseconds, median (min-max).\n")
    print("| waiting to close | desk (indexed `close_due_at`) | baseline (every resolved ticket) | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    with fresh_database(args.database) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        seeder = Seeder.start(engine, opened_at=RESOLVED_AT - timedelta(hours=1), priority="P2")
        tick(engine, desk_pass)  # warm-up, untimed: playbook parsing and the calendar's years, once per process
        tick(engine, naive_pass)
        for size in sizes:
            print(f"seeding up to {size:,} resolved tickets", file=sys.stderr)
            catch_up(seeder)
            with unit_of_work(engine) as session:
                waiting = len(session.exec(select(TicketRow.id).where(TicketRow.status != "closed")).all())
            seeder.grow(seeder.next_id - 1 + size - waiting)
            with engine.begin() as connection:  # the clones: resolved an hour ago, closing next week
                connection.execute(update(TICKETS).where(TICKETS.c.status != "closed").values(
                    status="resolved", resolved_at=RESOLVED_AT, close_due_at=NOW + timedelta(days=7)))
                connection.execute(text("ANALYZE"))
            fast = [tick(engine, desk_pass) for _ in range(args.repeats)]
            slow = [tick(engine, naive_pass) for _ in range(args.repeats)]
            print(f"| {size:,} | {_spread(fast)} | {_spread(slow)} | "
                  f"{statistics.median(slow) / statistics.median(fast):,.1f}× |")
        engine.dispose()


def catch_up(seeder: Seeder) -> None:
    """Clones continue after the tickets the passes opened (ids and each council's ref numbers)."""
    with unit_of_work(seeder.engine) as session:
        seeder.next_id = max(session.exec(select(TicketRow.id)).all()) + 1
        for template in seeder.templates:
            template.next_number = queries.get_council(session, template.ticket["council_id"]).next_number


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):,.1f} ({min(ms):,.1f}-{max(ms):,.1f})"


if __name__ == "__main__":
    main()
