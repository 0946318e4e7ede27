"""`desk sandbox` as a person runs it: a real process that prints where to go, serves the console and the
API on 127.0.0.1, refuses a database holding real tickets, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from desk.cli import sandbox_run
from desk.errors import ConfigError
from tests.processes import desk_cli, free_port
from tests.sandbox.console_client import PAPERCUT, SandboxApi

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DESK_"))}
    return {**env, "DESK_PLAYBOOKS_DIR": str(ROOT / "playbooks"), "PYTHONUNBUFFERED": "1"}


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int, str]:
    """`desk sandbox ARGS` on a free port, once it says where it is running (and what it printed)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "desk", "sandbox", "--port", str(port), *args],
                               env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while not any("is running at" in line for line in lines):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("".join(lines) + (process.stdout.read() if process.stdout else ""))
        lines.append(process.stdout.readline())
    return process, port, "".join(lines)


def test_the_command_serves_the_console_on_localhost_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'sandbox.db'}"
    process, port, banner = start(tmp_path, "--database", database)
    try:
        assert f"http://127.0.0.1:{port}/" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"<main" in page.read()
        api = SandboxApi(f"http://127.0.0.1:{port}")
        member = api.someone("council", "cherwell")
        api.post("say", **{"as": member["id"], "channel": "C0CHW7SUPP", "text": PAPERCUT})
        api.wait_for("C0IMS2TRGE", lambda m: "CHW-1" in m["text"])
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "stopped" in out
    assert not (tmp_path / "desk.db").exists(), "the sandbox never touches desk's own database"


def test_the_demo_fills_the_sandbox_before_it_says_it_is_ready(tmp_path: Path) -> None:
    process, port, banner = start(tmp_path, "--demo")  # the default database, in the working directory
    try:
        made = re.search(r"demo history ready: (\d+) tickets", banner)
        assert made and int(made.group(1)) >= 13, banner
        api = SandboxApi(f"http://127.0.0.1:{port}")
        triage = api.messages(api.channel_of(None)["id"])
        assert len([m for m in triage if m["bot"] and m["text"][:4] in ("CHW-", "FIFE", "WNC-", "MCC-")]) >= 13
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "desk.db").exists()


def test_it_listens_on_127_0_0_1_unless_told(tmp_path: Path) -> None:
    running = sandbox_run.start(database_url=f"sqlite:///{tmp_path / 'a.db'}", port=0,
                                playbooks_dir=ROOT / "playbooks")
    try:
        assert running.server.server_address[0] == "127.0.0.1"
        assert running.url.startswith("http://127.0.0.1:")
    finally:
        running.stop()


def test_what_the_worker_catches_up_on_at_start_is_there_before_the_console_serves(tmp_path: Path) -> None:
    """A fresh sandbox owes each council last week's digest: it is in the channel as soon as `start` returns
    (the console's first look), not posted a couple of seconds later under a person reading the page."""
    running = sandbox_run.start(database_url=f"sqlite:///{tmp_path / 'a.db'}", port=0,
                                playbooks_dir=ROOT / "playbooks")
    try:
        api = SandboxApi(running.url)
        shown = api.messages(api.channel_of("cherwell")["id"])
        assert [m["text"].split(":")[0] for m in shown if m["thread_ts"] is None] == [
            "*Weekly digest for Cherwell District Council"]
    finally:
        running.stop()


def test_it_refuses_a_database_holding_real_tickets(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    env = {**_env(tmp_path), "DESK_DATABASE_URL": database}
    for args in (("db", "upgrade"), ("playbooks", "sync"),
                 ("tickets", "open", "--council", "cherwell", "--title", "A real council's ticket")):
        done = desk_cli(env, *args)
        assert done.returncode == 0, done.stderr
    with pytest.raises(ConfigError, match="did not create.*sandbox.db"):
        sandbox_run.start(database_url=database, port=0, playbooks_dir=ROOT / "playbooks")
    refused = desk_cli(env, "sandbox", "--port", str(free_port()), "--database", database)
    assert refused.returncode == 1 and "1 ticket(s) that the sandbox did not create" in refused.stderr


def test_it_refuses_a_real_desk_database_even_before_its_first_ticket(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'desk.db'}"
    done = desk_cli({**_env(tmp_path), "DESK_DATABASE_URL": database}, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    with pytest.raises(ConfigError, match="a desk database the sandbox did not create"):
        sandbox_run.start(database_url=database, port=0, playbooks_dir=ROOT / "playbooks")


def test_a_sandbox_database_can_be_used_again(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'sandbox.db'}"
    for _ in range(2):
        running = sandbox_run.start(database_url=database, port=0, playbooks_dir=ROOT / "playbooks")
        try:
            api = SandboxApi(running.url)
            api.post("say", **{"as": api.someone("council", "cherwell")["id"], "channel": "C0CHW7SUPP",
                               "text": PAPERCUT})
        finally:
            running.stop()
