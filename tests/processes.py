"""Real desk processes for tests: a free port, the CLI as a subprocess, waiting for `/healthz`.

Shared by the tests that run desk as operators do (`desk serve --http` under gunicorn, `desk worker`):
tests/slack/test_serve.py, tests/ops/ and tests/faults/.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from desk.sandbox.slack_api import SlackStandIn
from tests.slack.conftest import SECRET

T = TypeVar("T")
FAST_PLAYBOOKS = Path(__file__).parent / "fixtures" / "fast-playbooks"  # SLA targets seconds long


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def desk_cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desk", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def wait_healthy(port: int, process: subprocess.Popen, log: Path, *, timeout: float = 30) -> None:
    """Until `GET /healthz` on 127.0.0.1:port answers ok; fails with the process's log if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if json.loads(answer.read())["ok"]:
                    return
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"the process on port {port} did not become healthy:\n{log.read_text()[-3000:]}")


def eventually(check: Callable[[], T | None], what: str | Callable[[], str], *, timeout: float = 60.0,
               interval: float = 0.25) -> T:
    """Poll `check` until it returns something true, and return that; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what if isinstance(what, str) else what()}")
        time.sleep(interval)


def desk_env(database_url: str, slack: SlackStandIn, *, playbooks: Path, token: str, **extra: str) -> dict[str, str]:
    """The environment an operator gives desk, pointed at the stand-in; the database migrated and the
    playbooks synced, as the release step does."""
    env = {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(playbooks),
           "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": SECRET, "DESK_SLACK_API_URL": slack.api_url, **extra}
    for command in (("db", "upgrade"), ("playbooks", "sync")):
        done = desk_cli(env, *command)
        assert done.returncode == 0, done.stderr
    return env


class DeskProcesses:
    """desk commands started as operators start them, each logging to `<log_dir>/<name>.log`.

    `stop()` sends SIGTERM to every one still running and requires each to exit 0 (a graceful stop) within
    `timeout`; one that does not is killed and the test fails with the end of its log."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with self.log(name).open("w") as log:
            process = subprocess.Popen([sys.executable, "-m", "desk", *args], env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.started[name] = process
        return process

    def serve(self, name: str = "web") -> int:
        """`desk serve --http` on a free port, started; its port (call `wait_healthy` before using it)."""
        port = free_port()
        self.start(name, "serve", "--http", "--host", "127.0.0.1", "--port", str(port))
        return port

    def wait_healthy(self, name: str, port: int) -> None:
        wait_healthy(port, self.started[name], self.log(name))

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def stop(self, timeout: float = 30) -> None:
        running = [(name, p) for name, p in self.started.items() if p.poll() is None]
        for _, process in running:
            process.send_signal(signal.SIGTERM)
        for name, process in running:
            try:
                assert process.wait(timeout=timeout) == 0, self.log(name).read_text()[-3000:]
            except subprocess.TimeoutExpired:
                process.kill()
                raise
