"""`desk report sla` in-process, against a real database file, the frozen test playbooks and the seeded
history of tests/services/test_reports.py (its figures are checked there and, per format, in
tests/rendering/test_reports.py; here: the options, the files, and the errors).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import time_machine

from desk.db.engine import make_engine, unit_of_work
from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS
from tests.services.test_reports import LATER, seed

PERIOD = ("--from", "2026-01-05", "--to", "2026-01-16")
TOTAL_ROW = "| All councils | all | 7 | 5 | 6 of 8 (75%) | 4 of 6 (67%) | 3 of 6 (50%) | 1 of 5 (20%) |"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str
         ) -> Callable[..., Result]:
    """A migrated, synced, seeded database; `desk(...)` runs `desk report …` (or another command) at LATER."""
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))

    def run(*args: str) -> Result:
        with time_machine.travel(LATER, tick=False):
            return run_desk(capsys, *args)

    assert run("db", "upgrade").code == 0 and run("playbooks", "sync").code == 0
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        seed(session)
    engine.dispose()
    return run


def test_markdown_is_the_default_on_stdout(desk) -> None:
    result = desk("report", "sla", *PERIOD)
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("# SLA report: All councils\n") and TOTAL_ROW in result.out


def test_json_is_one_document(desk) -> None:
    result = desk("report", "sla", *PERIOD, "--format", "json")
    doc = json.loads(result.out)
    assert (result.code, doc["report"], doc["as_of"]) == (0, "sla", "2026-01-16T23:59:59+00:00")
    assert doc["overall"]["first_response_on_time"] == {"met": 6, "total": 8, "percent": 75,
                                                        "missed": ["CHW-4", "CHW-6"]}


def test_csv_and_html_to_a_file(desk, tmp_path: Path) -> None:
    rows_file, page_file = tmp_path / "sla.csv", tmp_path / "sla.html"
    result = desk("report", "sla", *PERIOD, "--council", "cherwell", "--format", "csv",
                  "--out", str(rows_file))
    assert (result.code, result.out, result.err) == (0, "", f"csv report written to {rows_file}\n")
    rows = list(csv.DictReader(io.StringIO(rows_file.read_text(encoding="utf-8"))))
    assert [r["ref"] for r in rows] == ["CHW-1", "CHW-2", "CHW-3", "CHW-4", "CHW-5", "CHW-6", "CHW-7"]
    assert rows_file.read_bytes().count(b"\r\n") == 8  # RFC 4180 line ends, kept as written
    assert desk("report", "sla", *PERIOD, "--format", "html", "--out", str(page_file)).code == 0
    page = page_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4


def test_a_councils_report_names_no_other_council(desk) -> None:
    for fmt in ("md", "csv", "json", "html"):
        out = desk("report", "sla", *PERIOD, "--council", "fife", "--format", fmt).out
        assert "FIFE-2" in out and "CHW" not in out and "Cherwell" not in out and "cherwell" not in out, fmt


def test_a_period_still_running_says_so(desk) -> None:
    out = desk("report", "sla", "--from", "2026-03-01", "--to", "2026-03-31").out
    assert "Figures as of Mon 2 Mar 2026 12:00: the period is still running" in out


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2026-13-01", "--to", "2026-01-16"),
     "error: --from: '2026-13-01' is not a date like 2026-01-31"),
    (("--from", "2026-01-05", "--to", "16/01/2026"),
     "error: --to: '16/01/2026' is not a date like 2026-01-31"),
    (("--from", "2026-01-16", "--to", "2026-01-05"), "error: --from 2026-01-16 is after --to 2026-01-05"),
    (("--from", "2026-04-01", "--to", "2026-04-30"), "error: --from 2026-04-01 is in the future"),
    ((*PERIOD, "--council", "nowhere"), "error: --council: no council 'nowhere'"),
])
def test_bad_options_are_named(desk, args: tuple[str, ...], message: str) -> None:
    result = desk("report", "sla", *args)
    assert result.code == 1 and result.err.startswith(message) and result.out == ""


def test_an_unknown_format_is_a_usage_error(desk) -> None:
    result = desk("report", "sla", *PERIOD, "--format", "pdf")
    assert result.code == 2 and "--format" in result.err
