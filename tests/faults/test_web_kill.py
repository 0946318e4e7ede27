"""`desk serve --http` SIGKILLed at random moments, 20 times, under a steady stream of signed message events:
every event it acked (the sender got 200) opened exactly one ticket, and none was lost.

This is the durable receipt (desk/slack/receipt.py): an event is stored before its ack and worked again
after a crash. Without it, an event acked just before the kill was gone (Slack never resends an acked
event): 5 of 5 were lost when killed right after the ack.

Real processes and the real clock: `desk serve --http` (gunicorn) against a real database and the Slack
stand-in. The whole process group is SIGKILLed (gunicorn's master and its worker at once, as an OOM kill
or a lost node does), and a new one started on the same port. Two senders play Slack: each sends message
events from a council member in the council's channel, one after another, and does what Slack does with
an answer that is not 200 in 3 s (refused while desk is down, 503, a connection cut by the kill): sends it
again, up to three times, with `X-Slack-Retry-Num` (sooner than Slack would: 0.5, 2 and 5 s). Half the
events come from a person desk has not seen, without `user_team`, so their work looks them up with
`users.info` (answered in 50-300 ms by the stand-in) before its transaction: kills land between the ack
and the transaction, which is the window the inbox closes.

Process layout: on SQLite the web process runs the worker's jobs (so the inbox is reworked by the next
incarnation, on start); on PostgreSQL a `desk worker` runs beside it, is never killed, and reworks what the
dead web process acked, through its own Bolt app. `DESK_INBOX_LEASE_SECONDS=2` brings rework quickly.

Replay a run with `DESK_FAULT_SEED=<seed>` (printed, and in every assertion message); `DESK_FAULT_KILLS`
sets the number of kills (20 by default).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from desk.db.engine import make_engine
from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_env, eventually, free_port, wait_healthy
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, SECRET, USERS

KILLS = int(os.environ.get("DESK_FAULT_KILLS") or 20)
KILL_DELAY = (0.05, 1.0)  # seconds after the web process is healthy before it is killed
LEASE_SECONDS = 2
SENDERS = 2
SEND_EVERY = (0.01, 0.05)  # seconds between one sender's events
RETRY_AFTER = (0.5, 2.0, 5.0)  # Slack's three retries, sooner than Slack
USERS_INFO_LATENCY = (0.05, 0.3)
STRANGERS = 3000  # council members desk has not seen yet, per sender


@dataclass
class Sent:
    """One event as the sender saw it: every answer it got (status, or the connection error)."""

    body: dict
    answers: list[int | str] = field(default_factory=list)

    @property
    def ts(self) -> str:
        return self.body["event"]["ts"]

    @property
    def acked(self) -> bool:
        return 200 in self.answers


class Slack:
    """The senders: a steady stream of message events to whatever listens on `port`, retried like Slack."""

    def __init__(self, driver: SlackDriver, seed: int):
        self.driver, self.seed = driver, seed
        self.sent: list[Sent] = []
        self.stop_new = threading.Event()
        self.stopped = threading.Event()
        self.failures: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(SENDERS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """No new events; the retries still due are sent; then the senders end."""
        self.stop_new.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in self.threads), "a sender did not finish"

    def _run(self, index: int) -> None:
        try:
            self._send_all(index)
        except BaseException as err:  # reported by the test
            self.failures.append(err)

    def _send_all(self, index: int) -> None:
        rng = random.Random(self.seed * 10 + index)
        retries: list[tuple[float, Sent]] = []  # (when, event)
        number = 0
        while not (self.stop_new.is_set() and not retries):
            due = [r for r in retries if r[0] <= time.monotonic()]
            if due:
                retries.remove(due[0])
                sent = due[0][1]
            elif not self.stop_new.is_set():
                number += 1
                sent = Sent(self._event(index, number, rng))
                self.sent.append(sent)
            else:
                time.sleep(0.05)
                continue
            answer = self._send(sent)
            sent.answers.append(answer)
            if answer != 200 and len(sent.answers) <= len(RETRY_AFTER):
                retries.append((time.monotonic() + RETRY_AFTER[len(sent.answers) - 1], sent))
            time.sleep(rng.uniform(*SEND_EVERY) if answer == 200 else 0.2)

    def _event(self, index: int, number: int, rng: random.Random) -> dict:
        if rng.random() < 0.5:
            return self.driver.message(f"Sender {index} request {number}: card payments fail", user=ALICE,
                                       user_team=CHERWELL, channel=CHERWELL_CHANNEL)
        body = self.driver.message(f"Sender {index} request {number}: council tax page is down",
                                   user=stranger(index, number), user_team=CHERWELL, channel=CHERWELL_CHANNEL)
        for key in ("team", "user_team", "source_team"):  # desk asks users.info which organisation
            body["event"].pop(key, None)
        return body

    def _send(self, sent: Sent) -> int | str:
        retry = len(sent.answers) or None
        try:
            return self.driver.send_event(sent.body, retry_num=retry, timeout=3.0).status
        except OSError as err:  # refused while desk is down, cut by the kill, or no answer in 3 s
            return type(err).__name__


def stranger(index: int, number: int) -> str:
    return f"U0CHW{index}{number % STRANGERS:05d}"


@dataclass
class Web:
    """The web process (a gunicorn master and its worker, one process group) and its incarnations."""

    env: dict[str, str]
    port: int
    tmp_path: Path
    process: subprocess.Popen | None = None
    incarnations: int = 0

    def start(self) -> None:
        self.incarnations += 1
        log = self.log(self.incarnations)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "desk", "serve", "--http", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, number: int) -> Path:
        return self.tmp_path / f"web{number}.log"

    def wait_healthy(self) -> None:
        assert self.process is not None
        wait_healthy(self.port, self.process, self.log(self.incarnations), timeout=60)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # master and worker at once
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=30) == 0, self.log(self.incarnations).read_text()[-3000:]


@pytest.fixture
def seed() -> int:
    seed = int(os.environ.get("DESK_FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"DESK_FAULT_SEED={seed}")
    return seed


@pytest.fixture
def slack(seed: int) -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        stand_in.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"}
                          for u, t in USERS.items()}
        stand_in.users.update({stranger(i, n): {"id": stranger(i, n), "team_id": CHERWELL, "name": f"member{n}",
                                                "tz": "Europe/London"}
                               for i in range(SENDERS) for n in range(STRANGERS)})
        rng = random.Random(seed)
        for _ in range(2000):
            stand_in.inject("users.info", latency=rng.uniform(*USERS_INFO_LATENCY))
        yield stand_in


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def test_web_process_killed_at_random_loses_no_acked_event_and_acts_on_each_once(
        database_url: str, tmp_path: Path, slack: SlackStandIn, seed: int) -> None:
    rng = random.Random(seed)
    env = desk_env(database_url, slack, playbooks=TEST_PLAYBOOKS, token="xoxb-web-kill",
                   DESK_INBOX_LEASE_SECONDS=str(LEASE_SECONDS), DESK_LOG_FORMAT="json", DESK_LOG_LEVEL="INFO")
    engine = make_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    web = Web(env, free_port(), tmp_path)
    worker: subprocess.Popen | None = None
    if postgres:  # the documented layout: the web process, and a worker beside it (never killed here)
        worker = subprocess.Popen([sys.executable, "-m", "desk", "worker"], env=env,
                                  stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT)
    sender = Slack(SlackDriver(f"http://127.0.0.1:{web.port}/slack/events", SECRET, hooks_url=slack.hooks_url),
                   seed)
    context = f"seed {seed}"
    began = time.monotonic()
    try:
        web.start()
        web.wait_healthy()
        sender.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(*KILL_DELAY))
            assert web.process is not None and web.process.poll() is None, (
                f"{context}: the web process died by itself:\n{web.log(web.incarnations).read_text()[-3000:]}")
            web.kill()
            web.start()
            web.wait_healthy()
        killed = time.monotonic()
        sender.finish()
        assert not sender.failures, f"{context}: a sender failed: {sender.failures!r}"

        acked = [s for s in sender.sent if s.acked]

        def opened() -> dict[str, int]:
            with engine.connect() as connection:
                return dict(connection.execute(text(
                    "SELECT slack_ts, count(*) FROM ticket GROUP BY slack_ts")).all())

        def all_worked() -> bool:
            tickets = opened()
            return (all(tickets.get(s.ts) for s in acked)
                    and scalar(engine, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == 0)

        eventually(all_worked, lambda: f"{context}: acked events without a ticket: "
                   f"{[s.ts for s in acked if not opened().get(s.ts)][:10]}, unfinished inbox rows: "
                   f"{scalar(engine, 'SELECT count(*) FROM inbox WHERE done_at IS NULL')}", timeout=60)
        time.sleep(LEASE_SECONDS + 1.5)  # anything reworked twice would land now
        tickets = opened()
        reworked = scalar(engine, "SELECT count(*) FROM inbox WHERE attempts > 0")
        stored = scalar(engine, "SELECT count(*) FROM inbox")
    finally:
        web.stop()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()[-3000:]
        engine.dispose()

    answers = Counter(str(a) for s in sender.sent for a in s.answers)
    print(f"seed {seed}: {KILLS} kills, {len(sender.sent)} events sent ({dict(answers)}), {len(acked)} acked, "
          f"{stored} stored, {reworked} reworked after a kill, {len(tickets)} tickets; kills took "
          f"{killed - began:.0f} s")

    sent_ts = {s.ts for s in sender.sent}
    assert len(acked) > KILLS, f"{context}: too few events acked to tell anything"
    # None lost: every acked event opened its ticket; none twice; nothing opened that was not sent.
    assert [s.ts for s in acked if tickets.get(s.ts) != 1] == [], context
    assert {ts: n for ts, n in tickets.items() if n != 1} == {}, context
    assert set(tickets) <= sent_ts, context
    # The kills landed where it matters: some events were acked by a process that died before its work.
    assert reworked > 0, f"{context}: no event needed rework, so the kills tested nothing"
    assert slack.violations == [], context
