"""Every benchmark, one after the other, and the page that shows their latest figures: docs/benchmarks.md.

    make bench                                   # all of them, SQLite and PostgreSQL, writes docs/benchmarks.md
    .venv/bin/python bench/run_all.py --quick    # the same, small sizes, prints only
    .venv/bin/python bench/run_all.py --only ingress,memory

Each benchmark prints Markdown (its own baseline, measured in the same run, and the ratio) on stdout and its
progress on stderr; this runner passes stderr through, collects stdout and its exit status, and with
`--write` puts them all on one page under the command that made it. Benchmarks never fail on speed: a
non-zero status means a correctness check failed (a wrong count, a duplicate, a disagreement with the
baseline), and makes this runner exit 1 too. `make bench` runs under `.ci/postgres.sh run`, so
`DESK_TEST_DATABASE_URL` names a throwaway PostgreSQL and the benchmarks that compare databases use it.

The page starts with issue 16's targets: every line a benchmark prints in the form
`- target: <what>: met (<measured> against <goal>)` (or `not met (...)`), collected in the run's order. A
benchmark that failed, or printed no such line, shows as such in that table, never as met.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    what: str
    postgres: bool = False  # also given `--database $DESK_TEST_DATABASE_URL` as a second run
    full: tuple[str, ...] = ()  # arguments of the full run, where its own default would not fit the budget
    postgres_args: tuple[str, ...] = ("--quick",)  # the second run's size


BENCHMARKS = (
    Benchmark("ingress", "bench_ingress.py", "Slack requests acked under the production server"),
    Benchmark("socket-mode", "bench_socket_mode.py", "ack latency: HTTP and Socket Mode side by side"),
    Benchmark("intake", "bench_intake.py", "tickets opened per second, SQLite and PostgreSQL"),
    Benchmark("sweep", "bench_sweep.py", "one sweep tick as open tickets grow", postgres=True,
              full=("--repeats", "5")),
    Benchmark("catchup", "bench_catchup.py", "draining a backlog of overdue steps"),
    Benchmark("digests", "bench_digests.py", "400 councils' weekly digests, rendered and sent",
              full=("--speed", "8")),
    Benchmark("calendar", "bench_calendar.py", "business-time add and between", full=("--starts", "500")),
    Benchmark("recompute", "bench_recompute.py", "deadlines after a calendar change"),
    Benchmark("closing", "bench_closing.py", "one closing pass as tickets waiting to close grow",
              full=("--quick",)),
    Benchmark("memory", "bench_memory.py", "resident size of desk serve and desk worker"),
    Benchmark("search", "bench_search.py", "search at 100k tickets beside a LIKE '%word%' scan", postgres=True,
              postgres_args=()),
)


@dataclass
class Outcome:
    benchmark: Benchmark
    command: str
    status: int
    seconds: float
    markdown: str


def run(benchmark: Benchmark, quick: bool, database: str | None) -> Outcome:
    args = [sys.executable, str(HERE / benchmark.script)]
    if quick:
        args.append("--quick")
    elif database:
        args += benchmark.postgres_args
    else:
        args += benchmark.full
    if database:
        args += ["--database", database]
    shown = " ".join(["bench/" + benchmark.script, *args[2:]]).replace(database or "\0", "$DESK_TEST_DATABASE_URL")
    print(f"== {shown}", file=sys.stderr, flush=True)
    began = time.monotonic()
    done = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - began
    print(f"== {benchmark.name}: exit {done.returncode} after {seconds:.0f} s", file=sys.stderr, flush=True)
    return Outcome(benchmark, shown, done.returncode, seconds, done.stdout.strip())


TARGET = re.compile(r"^- target: (?P<what>.+): (?P<verdict>met|not met) \((?P<measured>.+?) against (?P<goal>.+)\)\s*$")


@dataclass(frozen=True)
class Target:
    what: str
    met: bool
    measured: str
    goal: str


def targets(markdown: str) -> list[Target]:
    """The `- target: ...` lines of one benchmark's output, in order."""
    found = []
    for line in markdown.splitlines():
        if match := TARGET.match(line.strip()):
            found.append(Target(match["what"].strip(), match["verdict"] == "met", match["measured"].strip(),
                                match["goal"].strip()))
    return found


def target_rows(outcomes: list[Outcome]) -> list[str]:
    """The "Targets (issue 16)" table: one row per target line, in the run's order. A run that failed marks its
    targets as failed whatever they say; a run without target lines gets a row saying so."""
    lines = ["| benchmark | target | measured | goal | result |", "|---|---|---|---|---|"]
    for o in outcomes:
        name = f"[{anchor(o)}](#{anchor(o)})"
        failed = f"**FAILED (exit {o.status})**" if o.status != 0 else ""
        found = targets(o.markdown)
        if not found:
            lines.append(f"| {name} | (no target lines) | — | — | {failed or '—'} |")
        for t in found:
            verdict = failed or ("met" if t.met else "**not met**")
            lines.append(f"| {name} | {t.what} | {t.measured} | {t.goal} | {verdict} |")
    return lines


def target_summary(outcomes: list[Outcome]) -> str:
    found = [(o, t) for o in outcomes for t in targets(o.markdown)]
    met = sum(1 for o, t in found if t.met and o.status == 0)
    return f"{met} of {len(found)} targets met."


def page(outcomes: list[Outcome], command: str, total: float) -> str:
    cores = os.cpu_count()
    lines = [
        "# Benchmarks",
        "",
        "What desk's design choices buy, measured beside a baseline in the same run (ratios, medians, and "
        "min-max spreads). These machines are shared and noisy: compare within a table, not across runs. "
        "What each benchmark does, and why its baseline is the right one, is in `bench/README.md`.",
        "",
        f"Latest run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}`, {total / 60:.1f} minutes in all, on "
        f"{cores} cores ({platform.machine()}), Python {platform.python_version()}. Load generators, servers "
        "and databases share those cores.",
        "",
        "## Targets (issue 16)",
        "",
        "Each line below is a `- target:` line printed by the benchmark, decided from that run's own figures.",
        "",
        *target_rows(outcomes),
        "",
        target_summary(outcomes),
        "",
        "## Benchmarks",
        "",
        "| benchmark | what | command | s | checks |",
        "|---|---|---|---:|---|",
    ]
    for o in outcomes:
        lines.append(f"| [{o.benchmark.name}](#{anchor(o)}) | {o.benchmark.what} | `{o.command}` | {o.seconds:.0f} | "
                     f"{'passed' if o.status == 0 else f'**FAILED (exit {o.status})**'} |")
    for o in outcomes:
        lines += ["", f'<a id="{anchor(o)}"></a>', "", o.markdown or "(no output)"]
    return "\n".join(lines) + "\n"


def anchor(outcome: Outcome) -> str:
    return outcome.benchmark.name + ("-postgresql" if "--database" in outcome.command else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every benchmark's --quick sizes")
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(b.name for b in BENCHMARKS))
    parser.add_argument("--write", type=Path, help="write the page here (e.g. docs/benchmarks.md)")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    unknown = set(args.only.split(",")) - {b.name for b in BENCHMARKS} if args.only else set()
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    server = os.environ.get("DESK_TEST_DATABASE_URL", "")
    began = time.monotonic()
    outcomes = []
    for benchmark in chosen:
        outcomes.append(run(benchmark, args.quick, None))
        if benchmark.postgres and server.startswith("postgresql"):
            outcomes.append(run(benchmark, args.quick, server))
    total = time.monotonic() - began
    command = "make bench" if args.write and not args.quick and not args.only else \
        "bench/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = page(outcomes, command, total)
    if args.write:
        args.write.write_text(text)
        print(f"wrote {args.write} ({total / 60:.1f} minutes)", file=sys.stderr)
    else:
        print(text)
    print(target_summary(outcomes), file=sys.stderr)
    failed = [o.command for o in outcomes if o.status != 0]
    for command in failed:
        print(f"FAILED: {command}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
