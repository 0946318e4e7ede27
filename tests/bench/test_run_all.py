"""bench/run_all.py's "Targets (issue 16)" table: collected from each benchmark's `- target:` lines, in the
run's order; a failed run or one without target lines never shows as met."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "bench" / "run_all.py")
assert _spec is not None and _spec.loader is not None
run_all = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = run_all  # dataclasses look their module up there
_spec.loader.exec_module(run_all)

MEMORY = """### Memory: resident size of desk's processes

| process | RSS MB |
|---|---:|
| floor | 56.8 |

- target: idle `desk serve` RSS, MB: met (131.2 against at most 150)
- target: idle `desk serve` RSS ÷ bare gunicorn: not met (2.61x against at most 2.5x)
- checks: passed"""

INTAKE = """### Intake

- target: intake on SQLite, tickets/s vs before: met (4.3x against at least 4x)
- checks: passed"""


def outcome(name: str, markdown: str, status: int = 0, database: bool = False):
    benchmark = next(b for b in run_all.BENCHMARKS if b.name == name)
    command = f"bench/{benchmark.script}" + (" --database $DESK_TEST_DATABASE_URL" if database else "")
    return run_all.Outcome(benchmark, command, status, 12.0, markdown)


def table(outcomes) -> list[str]:
    return run_all.target_rows(outcomes)[2:]


def test_a_target_line_is_parsed_into_what_measured_goal_and_verdict():
    found = run_all.targets(MEMORY)
    assert found == [
        run_all.Target("idle `desk serve` RSS, MB", True, "131.2", "at most 150"),
        run_all.Target("idle `desk serve` RSS ÷ bare gunicorn", False, "2.61x", "at most 2.5x"),
    ]


def test_lines_that_are_not_target_lines_are_ignored():
    assert run_all.targets("- checks: passed\n- target: no verdict here\ntarget: met (1 against 2)") == []


def test_rows_follow_the_run_order_and_say_met_or_not_met():
    rows = table([outcome("intake", INTAKE), outcome("memory", MEMORY)])
    assert rows == [
        "| [intake](#intake) | intake on SQLite, tickets/s vs before | 4.3x | at least 4x | met |",
        "| [memory](#memory) | idle `desk serve` RSS, MB | 131.2 | at most 150 | met |",
        "| [memory](#memory) | idle `desk serve` RSS ÷ bare gunicorn | 2.61x | at most 2.5x | **not met** |",
    ]


def test_a_failed_run_never_shows_as_met_even_if_its_lines_say_so():
    rows = table([outcome("intake", INTAKE, status=1)])
    assert rows == ["| [intake](#intake) | intake on SQLite, tickets/s vs before | 4.3x | at least 4x "
                    "| **FAILED (exit 1)** |"]
    assert run_all.target_summary([outcome("intake", INTAKE, status=1)]) == "0 of 1 targets met."


def test_a_run_without_target_lines_shows_as_such():
    rows = table([outcome("calendar", "### Calendar\n\n- checks: passed"),
                  outcome("sweep", "", status=2, database=True)])
    assert rows == ["| [calendar](#calendar) | (no target lines) | — | — | — |",
                    "| [sweep-postgresql](#sweep-postgresql) | (no target lines) | — | — | **FAILED (exit 2)** |"]


def test_the_page_starts_with_the_targets_table():
    text = run_all.page([outcome("intake", INTAKE), outcome("memory", MEMORY)], "make bench", 60.0)
    targets_at, benchmarks_at = text.index("## Targets (issue 16)"), text.index("## Benchmarks")
    assert targets_at < benchmarks_at < text.index("### Intake")
    assert "2 of 3 targets met." in text[targets_at:benchmarks_at]
