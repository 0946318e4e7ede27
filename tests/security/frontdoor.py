"""A real `desk serve --http` on 127.0.0.1 with the Slack stand-in, for the front-door findings of issue 12:
started as operators start it (tests/processes.py), reached by signed requests and by raw sockets."""

from __future__ import annotations

import json
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import DeskProcesses, desk_env, free_port
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, SECRET, USERS


@dataclass
class Served:
    driver: SlackDriver
    slack: SlackStandIn
    env: dict[str, str]
    port: int  # Slack's endpoint (PORT)
    ops_port: int  # /healthz and /metrics: the same as `port` unless DESK_OPS_PORT is set
    processes: DeskProcesses
    playbooks: Path

    @property
    def log(self) -> Path:
        return self.processes.log("web")

    def log_text(self) -> str:
        return self.log.read_text()

    def get(self, path: str, *, port: int | None = None, headers: dict[str, str] | None = None,
            timeout: float = 5.0) -> tuple[int, bytes, float]:
        """A GET to 127.0.0.1: (status, body, seconds taken)."""
        request = urllib.request.Request(f"http://127.0.0.1:{port or self.port}{path}", headers=headers or {})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read(), time.monotonic() - started
        except urllib.error.HTTPError as err:
            return err.code, err.read(), time.monotonic() - started

    def a_message(self, text: str = "We cannot take card payments on the website") -> dict:
        return self.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)


@contextmanager
def served(database_url: str, tmp_path: Path, *, ops_port: bool = False, **extra: str) -> Iterator[Served]:
    """`desk serve --http` (gunicorn, its default 1 worker x 8 threads) with JSON logs; `ops_port` sets
    DESK_OPS_PORT to a free port. The playbooks are a copy, so a test may change the registry."""
    playbooks = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, playbooks)
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        ops = free_port() if ops_port else None
        if ops is not None:
            extra["DESK_OPS_PORT"] = str(ops)
        env = desk_env(database_url, slack, playbooks=playbooks, token="xoxb-security", DESK_LOG_FORMAT="json",
                       **extra)
        processes = DeskProcesses(env, tmp_path)
        try:
            port = processes.serve("web")
            processes.wait_healthy("web", ops or port)
            driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, hooks_url=slack.hooks_url)
            yield Served(driver, slack, env, port, ops or port, processes, playbooks)
        finally:
            processes.stop(timeout=40)
        assert slack.violations == []


def raw_exchange(port: int, request: bytes, *, timeout: float = 15.0) -> tuple[int, bytes]:
    """Send raw bytes, read the answer until the server closes: (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and _whole(answer):
                break
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0
    return status, answer


def _whole(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def post_head(path: str, *, length: int, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}",
             f"Content-Length: {length}", *(f"{k}: {v}" for k, v in (extra or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def log_records(path: Path) -> list[dict]:
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
