"""Benchmark: business-time `add` and `between`, fast calendar against the day-walking reference.

The SLA sweep recomputes deadlines for every open ticket, and resolve targets run to hundreds of working
hours; the point of `desk.domain.calendar` is that its cost does not grow with the target. This measures
both implementations in the same run on the same fixed-seed instants, checks they give identical answers
(exit status 1 if not), and prints median time per operation with the min-max spread over repeats.

    .venv/bin/python bench/bench_calendar.py            # ~1 min
    .venv/bin/python bench/bench_calendar.py --quick    # ~5 s
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from desk.domain.calendar import BusinessCalendar, WorkClock
from desk.domain.calendar_reference import ReferenceCalendar
from desk.domain.playbook import CalendarSpec, Window

H = 3600
MON_THU = (Window(9 * H, 12 * H + 1800), Window(13 * H + 1800, 17 * H))
SPEC = CalendarSpec(
    timezone="Europe/London",
    division="england-and-wales",
    hours=(MON_THU, MON_THU, MON_THU, MON_THU, (Window(9 * H, 16 * H + 1800),), (), ()),
)
TARGETS = {"30m": 1800, "4h": 4 * H, "24h": 24 * H, "80h": 80 * H, "500h": 500 * H}
FIRST = datetime(2020, 1, 1, tzinfo=UTC)
LAST = datetime(2031, 1, 1, tzinfo=UTC)


def start_instants(count: int, seed: int) -> list[datetime]:
    """Any second of 2020-2030, working or not, with microseconds (the calendars truncate them)."""
    rng = random.Random(seed)
    span = int((LAST - FIRST).total_seconds())
    return [
        FIRST + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
        for _ in range(count)
    ]


def check_answers(
    fast: WorkClock, reference: WorkClock, starts: Sequence[datetime]
) -> dict[int, list[datetime]]:
    """Due instants per target; exits with status 1 on the first disagreement."""
    dues: dict[int, list[datetime]] = {}
    for label, seconds in TARGETS.items():
        dues[seconds] = [fast.add(start, seconds) for start in starts]
        for start, due in zip(starts, dues[seconds], strict=True):
            expected = reference.add(start, seconds)
            measured = (fast.between(start, due), reference.between(start, due))
            if due != expected or measured != (seconds, seconds):
                print(
                    f"MISMATCH {label} from {start.isoformat()}: add {due} vs {expected}, between {measured}"
                )
                sys.exit(1)
    return dues


def time_per_op(
    call: Callable[[datetime, datetime | int], object], pairs: Sequence[tuple], repeats: int
) -> list[float]:
    """Microseconds per call, one figure per repeat over all pairs; GC off while timing, as timeit does."""
    figures = []
    gc.disable()
    try:
        for _ in range(repeats):
            began = time.perf_counter_ns()
            for first, second in pairs:
                call(first, second)
            figures.append((time.perf_counter_ns() - began) / len(pairs) / 1000)
    finally:
        gc.enable()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instants, for a ~5 s run")
    parser.add_argument("--starts", type=int, help="start instants per target (default 2000, quick 200)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    count = args.starts or (200 if args.quick else 2000)

    fast, reference = BusinessCalendar(SPEC), ReferenceCalendar(SPEC)
    starts = start_instants(count, args.seed)
    built = time.perf_counter()
    fast.between(FIRST - timedelta(days=7), LAST + timedelta(days=400))  # lazy years built once, untimed
    built = time.perf_counter() - built
    dues = check_answers(fast, reference, starts)

    print("### Business time: add and between\n")
    print(f"{count} start instants 2020-2030 (seed {args.seed}), {args.repeats} repeats, Python "
          f"{platform.python_version()}; the fast calendar's years 2019-2031 built once first, in "
          f"{built * 1000:.0f} ms. Baseline: the day-walking reference calendar. Answers identical (add and "
          f"between, every instant and target).\n")
    print("| target | op | fast µs/op (min-max) | day-walk µs/op (min-max) | ratio |")
    print("|---:|---|---:|---:|---:|")
    for label, seconds in TARGETS.items():
        for op in ("add", "between"):
            if op == "add":
                pairs = [(start, seconds) for start in starts]
            else:
                pairs = list(zip(starts, dues[seconds], strict=True))
            fast_us = time_per_op(getattr(fast, op), pairs, args.repeats)
            base_us = time_per_op(getattr(reference, op), pairs, args.repeats)
            fast_median, base_median = statistics.median(fast_us), statistics.median(base_us)
            print(f"| {label} | {op} | {fast_median:.1f} ({min(fast_us):.1f}-{max(fast_us):.1f}) | "
                  f"{base_median:.1f} ({min(base_us):.1f}-{max(base_us):.1f}) | {base_median / fast_median:.0f}x |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
