"""Graceful shutdown: on SIGTERM, work already started finishes and the process exits 0.

`desk serve --http` finishes the work after each ack (and, on SQLite, the in-process worker's job);
`desk worker` finishes the notification it is posting and gives back the rest of its batch. Real
processes, the real clock, the Slack stand-in made slow at the moment that matters.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow
from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from desk.services import digests
from desk.services.dispatch import Dispatcher
from desk.services.ports import OutboxItem
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_cli, free_port
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, MONDAY, SECRET, TRIAGE, USERS


@dataclass
class Deployment:
    slack: SlackStandIn
    env: dict[str, str]
    tmp: Path

    def start(self, name: str, *args: str) -> tuple[subprocess.Popen, Path]:
        log = self.tmp / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen([sys.executable, "-m", "desk", *args], env=self.env, stdout=out,
                                       stderr=subprocess.STDOUT)
        return process, log


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        env = {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS),
               "SLACK_BOT_TOKEN": "xoxb-shutdown", "SLACK_SIGNING_SECRET": SECRET,
               "DESK_SLACK_API_URL": slack.api_url, "DESK_LOG_FORMAT": "json"}
        for command in (("db", "upgrade"), ("playbooks", "sync")):
            done = desk_cli(env, *command)
            assert done.returncode == 0, done.stderr
        this_weeks_digests_went_out(database_url)  # so the only posts are the ones each test causes
        yield Deployment(slack, env, tmp_path)
        assert slack.violations == []


def this_weeks_digests_went_out(database_url: str) -> None:
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        for row in digests.enqueue_due(session, now=datetime.now(UTC)):
            row.status = "sent"
            session.add(row)
    engine.dispose()


def wait_until(check, process: subprocess.Popen, log: Path, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{log.read_text()}"
        time.sleep(0.05)


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return json.loads(answer.read())["ok"]
    except OSError:
        return False


def messages(log: Path) -> list[str]:
    return [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_sigterm_after_an_ack_lets_the_work_after_it_finish(deployment: Deployment, database_url: str) -> None:
    port = free_port()
    process, log = deployment.start("serve", "serve", "--http", "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_until(lambda: healthy(port), process, log, what="desk serve to become healthy")
        driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, hooks_url=deployment.slack.hooks_url)
        deployment.slack.inject("chat.postMessage", latency=2.0)  # the council thread's confirmation is slow
        request = driver.message("Refund to a resident failed with error 51", user=ALICE, user_team=CHERWELL,
                                 channel=CHERWELL_CHANNEL)
        answer = driver.send_event(request)
        assert answer.status == 200 and answer.elapsed < 1.0
        exit_status = stop(process)  # right after the ack: the confirmation is still on its way
    finally:
        if process.poll() is None:
            process.kill()
    assert exit_status == 0, log.read_text()
    posts = [c for c in deployment.slack.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == 2, deployment.slack.calls  # the slow confirmation, then the triage card
    assert posts[0].fault is not None and posts[0].args["thread_ts"] == request["event"]["ts"]
    assert posts[1].args["channel"] == TRIAGE
    said = messages(log)
    assert any(m.startswith("stopping: finishing work in flight") for m in said), said
    if database_url.startswith("sqlite"):  # one process does everything: its scheduler stopped after its job
        assert "worker stopped" in said


def test_sigterm_during_a_post_lets_the_worker_finish_it(deployment: Deployment, database_url: str) -> None:
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with unit_of_work(engine) as session:
        session.add(OutboxRow(idempotency_key="alert:shutdown", kind="alert", target="triage", created_at=now,
                              available_at=now - timedelta(seconds=1),
                              payload={"failed_key": "esc:1", "failed_kind": "escalation", "target": "U0DUTYLEAD",
                                       "error": "channel_not_found", "ref": "CHW-1"}))
    deployment.slack.inject("chat.postMessage", latency=3.0)
    port = free_port()
    process, log = deployment.start("worker", "worker", "--metrics-port", str(port), "--metrics-host", "127.0.0.1")
    try:
        # the stand-in takes a fault off its queue as the call arrives, then sleeps: the post is in flight
        wait_until(lambda: not deployment.slack.pending_faults, process, log, what="a post to start")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert "desk_outbox_depth" in answer.read().decode()  # the worker serves its own metrics
        exit_status = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert exit_status == 0, log.read_text()
    slow = [c for c in deployment.slack.calls_to("chat.postMessage") if c.fault is not None]
    assert len(slow) == 1 and slow[0].ok  # the post in flight at SIGTERM was finished, not cut off
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(OutboxRow)).all())
    engine.dispose()
    assert slow[0].response["ts"] in {row.slack_ts for row in rows if row.status == "sent"}  # and recorded
    assert [row.idempotency_key for row in rows if row.status == "pending" and row.claimed_until] == []
    said = messages(log)
    assert any(m.startswith("signal 15: finishing the current job") for m in said) and "worker stopped" in said


class StoppingNotifier:
    """Posts fine, but the stop signal arrives during the first post."""

    def __init__(self, dispatcher: list[Dispatcher]):
        self.dispatcher, self.delivered = dispatcher, []

    def deliver(self, item: OutboxItem) -> str:
        self.delivered.append(item.key)
        self.dispatcher[0].stopping.set()
        return f"{len(self.delivered)}.0"


def test_a_stopping_dispatcher_finishes_the_row_in_hand_and_gives_back_the_rest(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        for key in ("first", "second", "third"):
            session.add(OutboxRow(idempotency_key=key, kind="alert", target="triage", created_at=MONDAY,
                                  available_at=MONDAY, payload={}))
    holder: list[Dispatcher] = []
    notifier = StoppingNotifier(holder)
    holder.append(Dispatcher(synced, notifier, lambda: MONDAY, pace=0))
    report = holder[0].drain()
    assert (report.sent, notifier.delivered) == (1, ["first"])
    with unit_of_work(synced) as session:
        rows = {row.idempotency_key: row for row in session.exec(select(OutboxRow)).all()}
    assert rows["first"].status == "sent"
    for key in ("second", "third"):  # claimable again at once, with no attempt spent
        assert (rows[key].status, rows[key].claimed_until, rows[key].attempts) == ("pending", None, 0)
