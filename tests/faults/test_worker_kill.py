"""`desk worker` SIGKILLed at random moments, many times: no notification lost, none sent twice except in
the one documented window (a post Slack accepted, the worker killed before it recorded the `ts`).

Real processes and the real clock: `desk worker` subprocesses against a real database, the Slack stand-in
(every `chat.postMessage` answered after 50-200 ms, so kills land while posts are in flight), and the
seconds-long playbooks of tests/fixtures/fast-playbooks, so SLA steps fall due while the workers are being
killed. Tickets are opened through the service layer from the test process, a few seconds apart: the web
process is not what is being killed, and leaving it out keeps every Slack call in the stand-in's log a
worker's. Each worker incarnation gets its own bot token, so the call log says which incarnation made each
call. `DESK_OUTBOX_LEASE_SECONDS=2` brings a killed worker's claims back quickly.

Process layout, per database:

- **SQLite**: one `desk worker` at a time, nothing else. In production on SQLite the web process runs the
  worker's jobs itself; a standalone worker runs the very same jobs (`Worker` from `Wiring.worker`), and
  with no second process every kill stops all sweeping and dispatching, often while the process holds
  SQLite's write lock (`BEGIN IMMEDIATE`) or has a post in flight. The next incarnation must recover from
  whatever the last one left: an unfinished transaction, claimed rows, a post Slack has but the
  database does not.
- **PostgreSQL**: two `desk worker` processes (the documented layout), either killed at random and
  restarted. The survivor takes a killed worker's claimed rows once their lease runs out (`FOR UPDATE SKIP
  LOCKED`) while the killed one restarts, so the kill exercises the lease and the two workers' sharing of
  the outbox, not only a restart.

Kills go on for 40 s or 30 kills, whichever comes first (a worker takes 1-5 s to start on a loaded
machine, so that is 10-30 kills), each 0.05-1.5 s after the victim logged `worker running`; then the last
incarnations run until every step is swept and every row sent, and stop with SIGTERM.

A duplicate on Slack is explained only if the incarnation that made the first copy (named by its token, so
the call left it before it died even when a loaded stand-in logs it a moment after the kill) was SIGKILLed,
the next copy came from another incarnation after that kill, the row's `sent` was recorded after it, and
that kill explains no other duplicate. Anything else fails the test.

Replay a run with `DESK_FAULT_SEED=<seed>` (the seed is printed and in every assertion message);
`DESK_FAULT_KILLS` caps the number of kills (30 by default).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from desk.config import Settings
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow
from desk.sandbox.call_log import Call
from desk.sandbox.slack_api import SlackStandIn
from desk.services import tickets
from desk.services.dispatch import Dispatcher
from desk.wiring import Wiring
from tests.processes import desk_cli
from tests.slack.conftest import ALICE, MONDAY, SECRET, HandClock

FAST_PLAYBOOKS = Path(__file__).parents[1] / "fixtures" / "fast-playbooks"
TICKETS = 10
OPEN_EVERY = 1.0  # seconds between tickets: their steps fall due one after another, during the kills
KILLS = int(os.environ.get("DESK_FAULT_KILLS") or 30)  # at most; fewer if the kill phase is over first
KILL_PHASE = 40.0  # seconds of killing; a worker takes 1-5 s to start on a loaded machine
KILL_DELAY = (0.05, 1.5)  # seconds after a worker is running (or after the previous kill) before the next
POST_LATENCY = (0.05, 0.2)
LEASE_SECONDS = 2
STEPS = {("respond", 50), ("respond", 100), ("resolve", 100)}  # the fast playbook's escalations
ESCALATION_TEXT = re.compile(r"^[A-Z]+-\d+: ")  # "CHW-3: first response breached"


@dataclass
class Incarnation:
    """One `desk worker` process; `token` is its own bot token, so the stand-in's log names it."""

    number: int
    slot: int
    token: str
    process: subprocess.Popen
    log: Path
    killed_at: float | None = None  # time.time() just before SIGKILL

    def running(self) -> bool:
        return '"worker running' in self.log.read_text()


@dataclass
class Rig:
    database_url: str
    slack: SlackStandIn
    env: dict[str, str]
    tmp_path: Path
    seed: int
    incarnations: list[Incarnation]

    def start(self, slot: int) -> Incarnation:
        number = len(self.incarnations) + 1
        token = f"xoxb-worker-kill-{number}"
        log = self.tmp_path / f"worker{number}.log"
        process = subprocess.Popen([sys.executable, "-m", "desk", "worker"], env={**self.env, "SLACK_BOT_TOKEN": token},
                                   stdout=log.open("w"), stderr=subprocess.STDOUT)
        incarnation = Incarnation(number, slot, token, process, log)
        self.incarnations.append(incarnation)
        return incarnation

    def wait_running(self, incarnation: Incarnation, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not incarnation.running():
            assert incarnation.process.poll() is None, (
                f"seed {self.seed}: worker {incarnation.number} exited with {incarnation.process.returncode}:\n"
                f"{incarnation.log.read_text()[-3000:]}")
            assert time.monotonic() < deadline, f"seed {self.seed}: worker {incarnation.number} did not start"
            time.sleep(0.02)


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    seed = int(os.environ.get("DESK_FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"DESK_FAULT_SEED={seed}")
    with SlackStandIn() as slack:
        env = {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(FAST_PLAYBOOKS),
               "SLACK_SIGNING_SECRET": "kill-test-secret", "DESK_SLACK_API_URL": slack.api_url,
               "DESK_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "DESK_LOG_FORMAT": "json",
               "DESK_LOG_LEVEL": "INFO", "SLACK_BOT_TOKEN": "xoxb-worker-kill-setup"}
        for command in (("db", "upgrade"), ("playbooks", "sync")):
            done = desk_cli(env, *command)
            assert done.returncode == 0, done.stderr
        rig = Rig(database_url, slack, env, tmp_path, seed, [])
        try:
            yield rig
        finally:
            for incarnation in rig.incarnations:
                if incarnation.process.poll() is None:
                    incarnation.process.kill()
                    incarnation.process.wait()


def open_tickets(database_url: str, refs: list[str], failures: list[BaseException]) -> None:
    """Open TICKETS P1 tickets through the service layer, OPEN_EVERY seconds apart (runs in a thread)."""
    engine = make_engine(database_url)
    try:
        for n in range(TICKETS):
            with unit_of_work(engine) as session:
                ticket = tickets.open_ticket(session, council_id="cherwell", actor="kill-test",
                                             title=f"We cannot take card payments at site {n}",
                                             at=datetime.now(UTC).replace(microsecond=0))
                refs.append(ticket.ref)
            time.sleep(OPEN_EVERY)
    except BaseException as err:  # reported by the test, which owns the assertion
        failures.append(err)
    finally:
        engine.dispose()


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def problems_in_log(incarnation: Incarnation) -> list[str]:
    """Log lines SIGKILL does not explain: tracebacks, errors, anything that is not a JSON log line."""
    found = []
    for line in incarnation.log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            found.append(line)  # a bare traceback or a crash message, outside the logger
            continue
        if "exception" in record or record.get("level") in ("ERROR", "CRITICAL"):
            found.append(line)
    return found


def test_worker_killed_at_random_loses_nothing_and_duplicates_only_in_the_documented_window(rig: Rig) -> None:
    seed, slack = rig.seed, rig.slack
    rng = random.Random(seed)
    for _ in range(1000):  # every post is slow, so a kill often lands while one is in flight
        slack.inject("chat.postMessage", latency=rng.uniform(*POST_LATENCY))
    engine = make_engine(rig.database_url)
    postgres = engine.dialect.name == "postgresql"
    slots = 2 if postgres else 1

    current = [rig.start(slot) for slot in range(slots)]
    refs: list[str] = []
    opener_failures: list[BaseException] = []
    opener = threading.Thread(target=open_tickets, args=(rig.database_url, refs, opener_failures), daemon=True)
    opener.start()

    began = time.monotonic()
    while len([i for i in rig.incarnations if i.killed_at]) < KILLS and time.monotonic() - began < KILL_PHASE:
        running = [slot for slot in range(slots) if current[slot].running()]  # not one still starting
        slot = rng.choice(running) if running else rng.randrange(slots)
        victim = current[slot]
        rig.wait_running(victim)
        time.sleep(rng.uniform(*KILL_DELAY))
        assert victim.process.poll() is None, (
            f"seed {seed}: worker {victim.number} died by itself:\n{victim.log.read_text()[-3000:]}")
        victim.killed_at = time.time()
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        current[slot] = rig.start(slot)
    kills_done = time.monotonic()
    opener.join(timeout=60)
    assert not opener_failures, f"seed {seed}: opening tickets failed: {opener_failures!r}"

    # The last incarnations run until every step is swept and every notification has left.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        due = scalar(engine, "SELECT count(*) FROM sla_clock WHERE next_step_at IS NOT NULL")
        pending = scalar(engine, "SELECT count(*) FROM outbox WHERE status = 'pending'")
        if due == 0 and pending == 0:
            break
        for incarnation in current:
            assert incarnation.process.poll() is None, (
                f"seed {seed}: worker {incarnation.number} died:\n{incarnation.log.read_text()[-3000:]}")
        time.sleep(0.5)
    drained = time.monotonic()
    for incarnation in current:
        rig.wait_running(incarnation)  # SIGTERM before its handler is installed would not be graceful
    time.sleep(1)  # anything still in flight lands now, or never
    for incarnation in current:
        incarnation.process.send_signal(signal.SIGTERM)
    for incarnation in current:
        assert incarnation.process.wait(timeout=30) == 0, incarnation.log.read_text()[-3000:]

    with engine.connect() as connection:
        db_refs = [r[0] for r in connection.execute(text("SELECT ref FROM ticket ORDER BY number"))]
        repeated_keys = connection.execute(text(
            "SELECT idempotency_key FROM outbox GROUP BY idempotency_key HAVING count(*) > 1")).all()
        escalated = connection.execute(text(
            "SELECT ticket_ref, data FROM ticket_event WHERE type = 'escalated'")).all()
    with Session(engine) as session:
        rows = session.exec(select(OutboxRow)).all()  # read as desk reads them: aware UTC instants
    engine.dispose()
    killed = [i for i in rig.incarnations if i.killed_at is not None]
    context = f"seed {seed}, {len(killed)} kills"

    # Every worker either died by SIGKILL or stopped cleanly, and logged nothing SIGKILL does not explain.
    assert [i.process.returncode for i in killed] == [-signal.SIGKILL] * len(killed), context
    for incarnation in rig.incarnations:
        assert problems_in_log(incarnation) == [], f"{context}: worker {incarnation.number}'s log"
    assert slack.violations == [], context

    # Nothing lost: every ticket, every step of every ticket fired exactly once (sent, or recorded as
    # superseded when a more severe step fell due at once while no worker was up), every row sent.
    assert sorted(db_refs) == sorted(refs) and len(db_refs) == TICKETS, context
    assert repeated_keys == [], context  # the unique constraint held (and nobody crash-looped on it)
    assert Counter(r.status for r in rows) == {"sent": len(rows)}, f"{context}: {Counter(r.status for r in rows)}"
    fired: Counter = Counter()
    superseded = 0
    for ref, data in escalated:
        data = data if isinstance(data, dict) else json.loads(data)
        superseded += len(data["superseded"])
        for step in [data, *data["superseded"]]:
            fired[(ref, step["metric"], step["threshold"])] += 1
    assert set(fired) == {(ref, m, t) for ref in db_refs for m, t in STEPS}, context
    assert set(fired.values()) == {1}, f"{context}: {[k for k, v in fired.items() if v > 1]}"

    # What Slack has: each sent row is one group of identical posts, whose last copy is the one recorded.
    posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
    groups: dict[tuple, list[Call]] = defaultdict(list)
    for call in posts:
        words = call.args.get("text", "")
        groups[(call.args["channel"], call.args.get("thread_ts"),
                words if ESCALATION_TEXT.match(words) else "(digest)")].append(call)
    by_ts = {row.slack_ts: row for row in rows}
    assert len(groups) == len(rows), f"{context}: {len(groups)} distinct posts for {len(rows)} outbox rows"
    incarnation_of = {i.token: i for i in rig.incarnations}
    explaining: dict[int, tuple] = {}  # incarnation number -> the duplicate its kill explains
    unexplained = []
    for key, copies in groups.items():
        copies.sort(key=lambda c: c.at)
        recorded = [c for c in copies if c.response.get("ts") in by_ts]
        assert len(recorded) == 1 and recorded[0] is copies[-1], (
            f"{context}: {key}: {len(copies)} copies, recorded: {[c.response.get('ts') for c in recorded]}")
        row = by_ts[recorded[0].response["ts"]]
        for first, again in itertools.pairwise(copies):
            # Explained: the incarnation that made `first` (its token says which: so the call left it before
            # it died, even when a loaded stand-in logs it after the kill) was SIGKILLed, `again` came
            # from another incarnation after that kill, the row's `sent` was recorded after the kill
            # (sent_at is stamped to the second, so "after" allows that second), and that kill explains
            # no other duplicate (a worker has one post in flight at a time).
            maker = incarnation_of.get(first.token)
            kill = maker.killed_at if maker else None
            if (maker is None or kill is None or not kill < again.at or maker.number in explaining
                    or again.token == first.token or not row.sent_at.timestamp() + 1 > kill):
                unexplained.append((key, row.idempotency_key, first.token, first.at, again.token, again.at, kill))
            else:
                explaining[maker.number] = key
    duplicates = len(posts) - len(groups)
    print(f"seed {seed}: {len(killed)} kills, {len(rig.incarnations)} worker processes, {len(rows)} outbox rows, "
          f"{len(posts)} posts, {duplicates} duplicate(s), {len(explaining)} explained by a kill, {superseded} step(s) "
          f"superseded; kills took {kills_done - began:.0f} s, draining {drained - kills_done:.0f} s more")
    assert unexplained == [], f"{context}: duplicates no kill explains: {unexplained}"
    assert duplicates == len(explaining) <= len(killed), context


def test_a_batch_that_outlasts_its_lease_does_not_post_rows_another_dispatcher_claimed_since(
        synced: Engine, database_url: str) -> None:
    """What the kill test found on PostgreSQL: a dispatcher whose batch outlasted its lease (posts to one
    channel are paced) posted rows that a second dispatcher had claimed and posted meanwhile. Each row's
    claim is now checked and renewed just before its post. Deterministic: the first dispatcher's pacing
    wait is where the lease runs out and the second one runs."""
    with SlackStandIn() as slack:
        settings = Settings.from_environ({"SLACK_BOT_TOKEN": "xoxb-lease", "SLACK_SIGNING_SECRET": SECRET,
                                          "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": slack.api_url,
                                          "DESK_OUTBOX_LEASE_SECONDS": "60"})
        clock = HandClock(MONDAY)
        wiring = Wiring(settings, clock=clock)
        wiring.__dict__["engine"] = synced
        with unit_of_work(synced) as session:
            for site in (1, 2):  # P1 in tests/fixtures/playbooks: respond 30m, 75 % -> the triage channel
                tickets.open_ticket(session, council_id="cherwell", title=f"We cannot take card payments at {site}",
                                    actor=ALICE, at=clock.now())
        clock.at = MONDAY + timedelta(minutes=23)
        assert wiring.worker(enqueue_digests=None).sweep().sent == 2
        second = wiring.worker(enqueue_digests=None, channel_pace=0).dispatcher

        def wait_for_the_channel(seconds: float) -> None:  # the first dispatcher's pacing wait...
            clock.at += timedelta(seconds=61)  # ...outlasts its 60 s lease,
            second.run_once()  # ...and the second dispatcher claims and posts what the lease no longer covers

        first = Dispatcher(synced, wiring.notifier(), clock.now, sleep=wait_for_the_channel, pace=3600,
                           lease=timedelta(seconds=settings.outbox_lease_seconds))
        report = first.run_once()

        posts = Counter(c.args["text"] for c in slack.calls_to("chat.postMessage") if c.ok)
        assert sorted(posts.values()) == [1, 1], posts
        assert report.sent == 1  # the first row; the second was left to the dispatcher that held it
        with Session(synced) as session:
            rows = session.exec(select(OutboxRow)).all()
        assert [r.status for r in rows] == ["sent", "sent"]
        assert slack.violations == []
