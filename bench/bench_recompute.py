"""Benchmark: recomputing deadlines after a calendar change, in bulk, against the per-ticket path.

When a council's division is corrected (`desk playbooks sync`) or an upgrade brings new bank-holiday data
(`desk sla recompute`), every running clock's due instant and next step must be worked out again. Two parts:

1. **Deadlines (pure)**: 1M running business-clock runs (quick: 100k) get their due instant and next step
   again on a new calendar through the SLA engine (`TicketSla.recompute_deadlines`, `next_step_at_for`) on
   the fast calendar; the baseline is the same engine on the day-walking reference calendar, timed on a
   sample and reported per deadline (a full 1M day-walk would take minutes). Answers must be identical.
2. **In the database**: 30k open business-clock tickets (quick: 10k) whose council moved from England and
   Wales to Scotland around St Andrew's Day: `sla_recompute.recompute` (keyset chunks, only moved rows
   written) against the per-ticket path the rest of desk uses (`sla_state.load`, recompute, `sla_state.save`,
   one transaction per ticket) on a sample. Check: the bulk pass leaves the sample's rows (already right)
   untouched, and a second bulk pass moves nothing.

    .venv/bin/python bench/bench_recompute.py [--quick] [--database URL]
"""

from __future__ import annotations

import argparse
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seeding import PLAYBOOKS, Seeder, fresh_database
from sqlalchemy import Engine, select

from desk.db import migrate
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import SlaClockRow, TicketRow
from desk.domain.calendar_reference import ReferenceCalendar
from desk.domain.playbook import ClockKind, Metric
from desk.domain.sla import MetricRun, SlaPolicy, TicketSla
from desk.services import playbooks, sla_recompute, sla_state
from desk.services.playbook_files import load_directory

OPENED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday before St Andrew's Day (Monday 30 November)
SPREAD = timedelta(days=10)  # clones opened up to ten days earlier: many deadlines run across the 30th
PRIORITIES = ("P2", "P3", "P4")


def spread(figures: Sequence[float]) -> str:
    return f"{statistics.median(figures):,.1f} ({min(figures):,.1f}-{max(figures):,.1f})"


def timed(call: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    figures, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = call()
        figures.append(time.perf_counter() - began)
    return figures, result


# -- part 1: the engine alone ------------------------------------------------------------------------

def synthetic_runs(count: int, policy: SlaPolicy, seed: int) -> list[tuple[str, MetricRun]]:
    """Running business-clock runs as a sweep would find them: started in the last fortnight, part used."""
    rng = random.Random(seed)
    runs = []
    for _ in range(count):
        priority = rng.choice(PRIORITIES)
        metric = rng.choice((Metric.RESPOND, Metric.RESOLVE))
        target = policy.target(priority)
        seconds = target.respond_within if metric is Metric.RESPOND else target.resolve_within
        since = OPENED_AT - timedelta(seconds=rng.randrange(int(SPREAD.total_seconds())))
        run = MetricRun(metric, 1, since, seconds, ClockKind.BUSINESS, running_since=since,
                        consumed_before=rng.randrange(seconds // 2))
        runs.append((priority, run))
    return runs


def recompute_all(policy: SlaPolicy, runs: Sequence[tuple[str, MetricRun]]) -> list[tuple[datetime, datetime]]:
    out = []
    for priority, run in runs:
        sla = TicketSla(policy, priority, "in_progress", [run])
        sla.recompute_deadlines()
        out.append((run.due_at, sla.next_step_at_for(run)))
    return out


def engine_part(count: int, sample: int, parts: int, seed: int) -> int:
    playbook = load_directory(PLAYBOOKS).playbooks["standard"]
    calendar = playbook.calendar.with_division("scotland")
    fast = SlaPolicy.for_playbook(playbook, calendar)
    slow = replace(fast, clocks={**fast.clocks, ClockKind.BUSINESS: ReferenceCalendar(calendar)})
    runs = synthetic_runs(count, fast, seed)
    recompute_all(fast, runs[:1000])  # the fast calendar builds the years it needs once: not timed
    # all of them once, timed in `parts` slices (one figure each, for the spread), the sample `parts` times
    size = count // parts
    fast_s, fast_answers = [], []
    for start in range(0, size * parts, size):
        figures, answers = timed(lambda start=start: recompute_all(fast, runs[start:start + size]), 1)
        fast_s += figures
        fast_answers += answers  # type: ignore[arg-type]
    slow_s, slow_answers = timed(lambda: recompute_all(slow, runs[:sample]), parts)
    if fast_answers[:sample] != slow_answers:
        print("- **MISMATCH**: the fast and the day-walking calendars disagree on a deadline")
        return 1
    fast_us = [s / size * 1e6 for s in fast_s]
    slow_us = [s / sample * 1e6 for s in slow_s]
    print(f"{size * parts:,} running business-clock runs (P2-P4, respond and resolve, started over the ten days "
          f"to {OPENED_AT:%d %b %Y}), due instant and next step on the Scotland calendar, timed in {parts} "
          f"slices; baseline timed {parts} times on {sample:,} of them; answers identical on the sample.\n")
    print("| deadlines | fast: s for all | fast µs/deadline | day-walk µs/deadline | day-walk s for all (extrapolated) | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {size * parts:,} | {sum(fast_s):,.1f} | {spread(fast_us)} | {spread(slow_us)} | "
          f"{statistics.median(slow_us) * count / 1e6:,.0f} | {statistics.median(slow_us) / statistics.median(fast_us):,.0f}x |")
    return 0


# -- part 2: in the database -------------------------------------------------------------------------

def moved_registry(directory: Path) -> Path:
    """The test playbooks with Cherwell moved from England and Wales to Scotland."""
    registry = directory / "councils.yaml"
    registry.write_text(registry.read_text().replace(
        "    playbook: standard\n    slack: {teams: [T0CHERWELL]",
        "    playbook: standard\n    division: scotland\n    slack: {teams: [T0CHERWELL]"))
    return directory


def per_ticket(engine: Engine, ticket_ids: Sequence[int]) -> None:
    """The path every other change takes: load the ticket's SLA, change it, save it, one transaction each."""
    for ticket_id in ticket_ids:
        with unit_of_work(engine) as session:
            ticket = session.get(TicketRow, ticket_id)
            assert ticket is not None
            sla = sla_state.load(session, ticket, sla_state.policy_for(session, ticket))
            sla.recompute_deadlines()
            sla_state.save(session, ticket, sla)


def snapshot(engine: Engine, ticket_ids: Sequence[int]) -> dict:
    with engine.connect() as connection:
        rows = connection.execute(select(SlaClockRow.__table__).where(
            SlaClockRow.__table__.c.ticket_id.in_(ticket_ids))).all()
    return {(r.ticket_id, r.metric, r.cycle): (r.due_at, r.next_step_at) for r in rows}


def database_part(url: str | None, tickets: int, sample: int, seed: int) -> int:
    with fresh_database(url, prefix="bench_recompute_") as database, tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(database)
        migrate.upgrade(engine)
        span = int(SPREAD.total_seconds())
        seeder = Seeder.start(engine, opened_at=OPENED_AT, priority="P3",
                              delta_of=lambda ticket_id: timedelta(seconds=-(ticket_id * 7919 % span)))
        began = time.perf_counter()
        seeder.grow(tickets)
        # Clones are shifted in time, which on a business clock leaves their stored deadlines inexact:
        # settle them on the current calendar first (untimed), so what follows starts from a true state.
        sla_recompute.recompute(engine)
        seeded = time.perf_counter() - began
        print(f"[bench_recompute] {tickets:,} tickets seeded and settled in {seeded:.1f} s", file=sys.stderr)

        directory = moved_registry(Path(shutil.copytree(PLAYBOOKS, Path(scratch) / "playbooks")))
        with unit_of_work(engine) as session:
            changed = playbooks.sync(session, load_directory(directory), at=OPENED_AT).divisions_changed
        with engine.connect() as connection:
            cherwell = [r[0] for r in connection.execute(select(TicketRow.id).where(TicketRow.council_id == "cherwell"))]
        picked = random.Random(seed).sample(cherwell, min(sample, len(cherwell)))

        base_s, _ = timed(lambda: per_ticket(engine, picked), 1)
        after_baseline = snapshot(engine, picked)
        bulk_s, report = timed(lambda: sla_recompute.recompute(engine, councils=changed), 1)
        again = sla_recompute.recompute(engine, councils=changed)
        problems = []
        if snapshot(engine, picked) != after_baseline:
            problems.append("the bulk pass changed rows the per-ticket path had already recomputed")
        if again.moved:
            problems.append(f"a second bulk pass moved {again.moved} deadlines")
        engine.dispose()

    assert isinstance(report, sla_recompute.RecomputeReport)
    bulk_us = bulk_s[0] / len(cherwell) * 1e6
    base_us = base_s[0] / len(picked) * 1e6
    kind = "SQLite" if database.startswith("sqlite") else "PostgreSQL"
    print(f"\n{tickets:,} open P3 tickets on {kind} (business clock, opened over the ten days to "
          f"{OPENED_AT:%d %b %Y}), {len(cherwell):,} of them Cherwell's; Cherwell moved from England and Wales "
          f"to Scotland (St Andrew's Day, Monday 30 November, becomes a holiday). Baseline: the per-ticket "
          f"path on {len(picked):,} of Cherwell's tickets.\n")
    print("| pass | tickets | running clocks | moved (next step earlier/later) | s | µs/ticket | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| bulk `desk sla recompute` | {len(cherwell):,} | {report.clocks:,} | {report.moved:,} "
          f"({report.earlier:,}/{report.later:,}) | {bulk_s[0]:.2f} | {bulk_us:,.0f} | 1x |")
    print(f"| per ticket (load, recompute, save) | {len(picked):,} | | | {base_s[0]:.2f} | {base_us:,.0f} | "
          f"{base_us / bulk_us:.1f}x |")
    print(f"| per ticket, extrapolated to all {len(cherwell):,} | | | | {base_us * len(cherwell) / 1e6:.1f} | | |")
    for problem in problems:
        print(f"- **CHECK FAILED**: {problem}")
    if not problems:
        print("- checks: the bulk pass left the baseline's rows as it wrote them; a second pass moved nothing")
    print()
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k deadlines and 10k tickets")
    parser.add_argument("--database", help="a server URL (a fresh database is created on it) or a new SQLite file")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args(argv)
    deadlines, tickets = (100_000, 10_000) if args.quick else (1_000_000, 30_000)

    print("### Deadlines after a calendar change\n")
    print(f"Python {platform.python_version()}, {platform.machine()}; "
          f"`bench/bench_recompute.py{' --quick' if args.quick else ''}`.\n")
    status = engine_part(deadlines, sample=2_000 if args.quick else 5_000, parts=5, seed=args.seed)
    status |= database_part(args.database, tickets, sample=500 if args.quick else 2_000, seed=args.seed)
    return status


if __name__ == "__main__":
    sys.exit(main())
