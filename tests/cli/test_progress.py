"""Long command-line work shows a bar with counts and rate on a terminal, and nothing anywhere else.

On a pseudo-terminal (a real `desk` process, its stderr a pty) the bar's counts appear; piped, stderr stays
empty and stdout is what it always was (the other CLI tests check that output itself).
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from desk.cli import progress
from desk.db.engine import make_engine, unit_of_work
from desk.services import audit, sla_recompute
from tests.cli.runner import run_desk
from tests.conftest import TEST_PLAYBOOKS

ROOT = Path(__file__).resolve().parents[2]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # what a terminal draws with, never in piped output


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str) -> dict[str, str]:
    """A database with three open tickets, and the environment a `desk` process needs to use it."""
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))
    for args in (("db", "upgrade"), ("playbooks", "sync"),
                 *(("tickets", "open", "--council", "cherwell", "--title", f"Refund stuck {n}") for n in range(3))):
        assert run_desk(capsys, *args).code == 0
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DESK_DATABASE_URL": database_url,
            "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS), "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}


def on_a_terminal(env: dict[str, str], *args: str, stdout=None) -> str:
    """`desk *args` with its stderr (and stdout, unless given) on a pseudo-terminal; what the terminal got."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "desk", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=stdout if stdout is not None else terminal, stderr=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process has closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0, seen.decode(errors="replace")
    return ESCAPE.sub("", seen.decode(errors="replace"))


def piped(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desk", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_sla_recompute_draws_its_counts_on_a_terminal(env: dict[str, str]) -> None:
    engine = make_engine(env["DESK_DATABASE_URL"])
    clocks = sla_recompute.running_clocks(engine)
    engine.dispose()
    assert clocks >= 3
    seen = on_a_terminal(env, "sla", "recompute")
    assert "recomputing SLA deadlines" in seen and f"{clocks}/{clocks} clocks" in seen
    assert f"{clocks} running SLA clock(s) recomputed" in seen  # and the usual summary after it


def test_audit_verify_draws_its_counts_on_a_terminal(env: dict[str, str]) -> None:
    engine = make_engine(env["DESK_DATABASE_URL"])
    with unit_of_work(engine) as session:
        events = audit.events_to_verify(session)
    engine.dispose()
    seen = on_a_terminal(env, "audit", "verify")
    assert "verifying the event chains" in seen and f"{events}/{events} events" in seen
    assert "cherwell: OK" in seen


def test_export_to_a_file_draws_its_counts_on_the_terminal_and_writes_the_file_untouched(
        env: dict[str, str], tmp_path: Path) -> None:
    with (tmp_path / "export.jsonl").open("w") as out:
        seen = on_a_terminal(env, "export", "--council", "cherwell", stdout=out)
    assert "exporting tickets" in seen and "3/3 tickets" in seen
    assert (tmp_path / "export.jsonl").read_text() == piped(env, "export", "--council", "cherwell").stdout


@pytest.mark.parametrize("args", [("sla", "recompute"), ("sla", "recompute", "--json"), ("audit", "verify"),
                                  ("audit", "verify", "--json"), ("export", "--council", "cherwell"),
                                  ("audit", "export", "--council", "cherwell"),
                                  ("report", "sla", "--from", "2020-01-01", "--to", "2020-01-31")])
def test_piped_there_is_no_bar_at_all(env: dict[str, str], args: tuple[str, ...]) -> None:
    done = piped(env, *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and not ESCAPE.search(done.stdout)


def test_json_never_draws_a_bar_even_on_a_terminal(env: dict[str, str]) -> None:
    seen = on_a_terminal(env, "sla", "recompute", "--json")
    assert "recomputing" not in seen and seen.lstrip().startswith("{")


def test_hidden_the_helpers_only_count_and_pass_items_through() -> None:
    assert not progress.shown()  # pytest captures stderr: not a terminal
    with progress.meter("work", unit="items", total=3) as done:
        done.advance()
        done(3)
    assert done.done == 3
    assert list(progress.track(iter("abc"), "work", unit="letters", counts=lambda c: c != "b")) == ["a", "b", "c"]
