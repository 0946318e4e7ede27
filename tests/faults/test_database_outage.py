"""PostgreSQL goes away for a few seconds, twice (`pg_ctl stop -m fast`, then `-m immediate`), under real
processes: `desk serve --http` (gunicorn) and `desk worker`, the Slack stand-in, signed requests.

While it is down, each kind of request gets a clear answer at once (never a 500, never a hang):

- an event that arrives before desk has noticed is acked 200 and its work waits for the database (it is
  not redelivered by Slack, so it must not be dropped); once desk knows, events get 503 and Slack's
  redelivery after recovery (`SlackDriver.redeliver`, with the retry headers) is what records them;
- `/desk status` gets an ephemeral "desk cannot reach its database, so nothing was saved";
- a button click is acked and the person is told the same through its response_url (nothing changes);
- a modal submission gets that error on the form, which stays open; submitted again later, it works.

After recovery, with no restart: `/healthz` is ok again, new requests work, every message is exactly one
complete ticket (row, opened event, SLA clocks, confirmation and card recorded), the SLA steps that fell
due during the outages fire once, both processes are the ones started, and their logs say "database
unreachable" in single lines, with no traceback.

PostgreSQL only (CI's second pass): the test runs its own throwaway cluster, so it can stop and start it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from desk.sandbox.driver import Response, SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.processes import FAST_PLAYBOOKS, DeskProcesses, desk_env, eventually, free_port
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SECRET, SUPPORT, USERS

UNREACHABLE = "cannot reach its database"
ACK_LIMIT = 3.0  # Slack's: an answer later than this is a failure (and, for events, a redelivery)

pytestmark = pytest.mark.skipif(not os.environ.get("DESK_TEST_DATABASE_URL", "").startswith("postgresql"),
                                reason="stops and starts its own PostgreSQL cluster: runs in the PostgreSQL pass "
                                       "(make test-postgres)")


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else (Path(shutil.which("pg_ctl")).parent if shutil.which("pg_ctl") else None)


class Postgres:
    """A throwaway cluster the test may stop and start (as the `postgres` user when running as root)."""

    def __init__(self, bindir: Path):
        self.bindir, self.port = bindir, free_port()
        self.root = Path(tempfile.mkdtemp(prefix="desk-db-outage-"))  # tmp_path is root-only: postgres can't
        self.data = self.root / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in command)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{tool} {args}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=100"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except AssertionError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Rig:
    pg: Postgres
    slack: SlackStandIn
    driver: SlackDriver
    port: int
    web: subprocess.Popen
    worker: subprocess.Popen
    logs: dict[str, Path]
    engine: Engine
    events: list[dict] = field(default_factory=list)  # every message event sent (to check one ticket each)

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as answer:
            return answer.code, json.loads(answer.read())

    def rows(self, sql: str, **params: object) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def message(self, words: str) -> Response:
        body = self.driver.message(words, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
        self.events.append(body)
        return self.driver.send_event(body)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (pg_ctl) on this machine")
    pg = Postgres(bindir)
    processes: DeskProcesses | None = None
    try:
        pg.start()
        with SlackStandIn() as slack:
            slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"}
                           for u, t in USERS.items()}
            env = desk_env(pg.url, slack, playbooks=FAST_PLAYBOOKS, token="xoxb-db-outage", DESK_LOG_FORMAT="json")
            processes = DeskProcesses(env, tmp_path)
            port = processes.serve("web")
            worker = processes.start("worker", "worker")  # both start at once: two cores
            processes.wait_healthy("web", port)
            eventually(lambda: "worker running" in processes.log("worker").read_text() or worker.poll() is not None,
                       "the worker to start", timeout=60)
            assert worker.poll() is None, processes.log("worker").read_text()
            engine = create_engine(pg.url, pool_pre_ping=True)
            driver = SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, hooks_url=slack.hooks_url)
            try:
                yield Rig(pg, slack, driver, port, processes.started["web"], worker,
                          {name: processes.log(name) for name in ("web", "worker")}, engine)
            finally:
                engine.dispose()
                processes.stop()
            assert slack.violations == []
    finally:
        for process in (processes.started.values() if processes else ()):
            if process.poll() is None:
                process.kill()
        pg.remove()


def _ticket_complete(rig: Rig, ref: str) -> bool:
    """The whole of a ticket: its row with the council thread, confirmation and card recorded, its opened
    event, and its two SLA clocks."""
    row = rig.rows("SELECT slack_ts, confirmation_ts, card_ts, id FROM ticket WHERE ref = :ref", ref=ref)
    if not row or None in row[0][:3]:
        return False
    opened = rig.rows("SELECT count(*) FROM ticket_event WHERE ticket_id = :id AND type = 'opened'", id=row[0][3])
    clocks = rig.rows("SELECT metric FROM sla_clock WHERE ticket_id = :id", id=row[0][3])
    return opened[0][0] == 1 and sorted(m for (m,) in clocks) == ["resolve", "respond"]


def _outage(rig: Rig, mode: str, until: datetime, replies: dict[str, list[Response]]) -> list[Response]:
    """Stop PostgreSQL (`mode`), send what people send, start it again once `until` has passed (so SLA steps
    fall due while it is down). Returns the event answers Slack would redeliver (not 2xx)."""
    rig.pg.stop(mode)
    first = rig.message(f"The bank file failed to import ({mode} 1)")  # before desk can have noticed
    status, detail = eventually(lambda: (lambda h: h if h[0] == 503 else None)(rig.health()),
                                "/healthz reports the database down", timeout=30)
    assert detail["ok"] is False and "unreachable" in detail["database"], detail
    second = rig.message(f"The bank file failed to import ({mode} 2)")  # desk knows now
    status_command = rig.driver.send_form(rig.driver.slash_command("status CHW-1", user=ALICE, user_team=CHERWELL,
                                                                   channel=CHERWELL_CHANNEL))
    click = rig.driver.send_interaction(rig.driver.block_action(
        Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=TicketRef(ref="CHW-1").dump(), channel="C0TRIAGE"))
    submit = rig.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
                                        values={Block.TITLE: {Input.VALUE: f"Refunds report ({mode})"}})
    submitted = rig.driver.send_interaction(submit)
    for name, answer in (("event", first), ("event", second), ("command", status_command), ("button", click),
                         ("modal", submitted)):
        replies[name].append(answer)
        assert answer.status in (200, 503) and answer.elapsed < ACK_LIMIT, (name, answer.status, answer.elapsed,
                                                                              answer.text)
    assert second.status == 503 and second.json()["error"] == "database_unavailable", second.text
    assert status_command.status == 200 and UNREACHABLE in status_command.json()["text"], status_command.text
    assert status_command.json()["response_type"] == "ephemeral"
    assert submitted.status == 200 and submitted.json()["response_action"] == "errors", submitted.text
    assert UNREACHABLE in submitted.json()["errors"][Block.TITLE]
    eventually(lambda: datetime.now(until.tzinfo) > until, "the SLA step's instant to pass", timeout=60)
    rig.pg.start()
    eventually(lambda: rig.health()[0] == 200, "/healthz ok again after PostgreSQL is back", timeout=30)
    # The modal stayed open: the person submits it again (the same view), and this time it works.
    again = rig.driver.send_interaction(submit)
    assert again.status == 200 and again.elapsed < ACK_LIMIT, again.text
    return [answer for answer in (first, second) if not 200 <= answer.status < 300]


def test_the_database_goes_away_and_comes_back(rig: Rig) -> None:
    web_pid, worker_pid = rig.web.pid, rig.worker.pid
    # A P1 ticket before the outages: its SLA steps (10 s, 20 s, 40 s after it opened) fall due during them.
    assert rig.message("We cannot take card payments at any site").status == 200
    eventually(lambda: _ticket_complete(rig, "CHW-1"), "CHW-1 complete")
    opened_at = rig.rows("SELECT opened_at FROM ticket WHERE ref = 'CHW-1'")[0][0]
    due = {row[0]: row[1] for row in rig.rows("SELECT metric, due_at FROM sla_clock WHERE ticket_id = "
                                              "(SELECT id FROM ticket WHERE ref = 'CHW-1')")}
    warn_at = opened_at + (due["respond"] - opened_at) / 2  # the respond 50 % step

    replies: dict[str, list[Response]] = {"event": [], "command": [], "button": [], "modal": []}
    refused = _outage(rig, "fast", warn_at, replies)
    for answer in refused:  # Slack's retry, after recovery: same body, fresh signature, retry headers
        assert rig.driver.redeliver(answer, retry_num=1).status == 200
    assert rig.message("Direct debits did not collect today").status == 200  # a new request works at once
    # desk resumed by itself: everything sent so far is a ticket within seconds (no restart)
    so_far = {body["event"]["ts"] for body in rig.events}
    eventually(lambda: so_far <= {ts for (ts,) in rig.rows("SELECT slack_ts FROM ticket")},
               "every message so far is a ticket after the first outage", timeout=30)
    refused = _outage(rig, "immediate", due["respond"], replies)
    for answer in refused:
        assert rig.driver.redeliver(answer, retry_num=1).status == 200

    # Every message sent is exactly one ticket, and every ticket is whole.
    messages = {body["event"]["ts"] for body in rig.events}
    tickets = eventually(lambda: (lambda rows: rows if {ts for ts, _ in rows} >= messages else None)(
        rig.rows("SELECT slack_ts, ref FROM ticket WHERE slack_channel = :c", c=CHERWELL_CHANNEL)),
        "a ticket for every message", timeout=90)
    counts = Counter(ts for ts, _ in tickets if ts in messages)
    assert set(counts) == messages and set(counts.values()) == {1}, counts
    submitted = rig.rows("SELECT ref FROM ticket WHERE title LIKE 'Refunds report%' ORDER BY number")
    assert len(submitted) == 2, submitted  # one per modal, submitted again after each outage
    refs = [ref for (ref,) in rig.rows("SELECT ref FROM ticket ORDER BY number")]
    assert len(refs) == len(messages) + 2
    eventually(lambda: all(_ticket_complete(rig, ref) for ref in refs), f"all of {refs} complete", timeout=60)
    confirmations = Counter(c.args.get("thread_ts") for c in rig.slack.calls_to("chat.postMessage")
                            if c.ok and c.args["channel"] == CHERWELL_CHANNEL and c.args.get("thread_ts"))
    assert len(confirmations) == len(refs) and set(confirmations.values()) == {1}, confirmations
    # The click during the outage changed nothing, and its person was told so.
    assert rig.rows("SELECT assignee FROM ticket WHERE ref = 'CHW-1'")[0][0] is None
    told = [c for c in rig.slack.calls_to("response_url") if UNREACHABLE in json.dumps(c.args)]
    assert len(told) == len(replies["button"]), [c.args for c in rig.slack.calls_to("response_url")]

    # The worker carried on: the two respond steps of CHW-1 that fell due while the database was down (one
    # in each outage) fired once each, sent or superseded by the more severe one; and Slack got each once.
    def fired() -> Counter | None:
        counted: Counter = Counter()
        for (data,) in rig.rows("SELECT data FROM ticket_event WHERE type = 'escalated' AND ticket_ref = 'CHW-1'"):
            data = data if isinstance(data, dict) else json.loads(data)
            for step in [data, *data["superseded"]]:
                counted[(step["metric"], step["threshold"])] += 1
        return counted if {("respond", 50), ("respond", 100)} <= set(counted) else None

    steps = eventually(fired, "CHW-1's respond steps fired", timeout=60)
    assert (steps[("respond", 50)], steps[("respond", 100)]) == (1, 1), steps
    respond = "SELECT status FROM outbox WHERE kind = 'escalation' AND idempotency_key LIKE 'esc:%:respond:%'"
    eventually(lambda: {s for (s,) in rig.rows(respond)} == {"sent"}, "the respond escalations posted", timeout=60)
    posted = [c for c in rig.slack.calls_to("chat.postMessage")
              if c.ok and c.args.get("text", "").startswith("CHW-1: first response ")]
    assert len(posted) == len(rig.rows(respond)) >= 1, [c.args.get("text") for c in posted]

    # No restart: the same processes (and one gunicorn worker, never re-booted), and logs that say what
    # happened in single lines without a traceback.
    assert rig.web.poll() is None and rig.worker.poll() is None
    assert (rig.web.pid, rig.worker.pid) == (web_pid, worker_pid)
    for name, log in rig.logs.items():
        records = _records(log)
        assert not [r for r in records if "exception" in r or "Traceback" in r.get("message", "")], \
            f"{name} logged a traceback:\n{log.read_text()[-4000:]}"
        unreachable = [r["message"] for r in records if "database unreachable" in r.get("message", "")]
        assert unreachable, f"{name} never said the database was unreachable:\n{log.read_text()[-3000:]}"
    booted = [r for r in _records(rig.logs["web"]) if "Booting worker" in r.get("message", "")]
    assert len(booted) == 1, booted
    # the web front's own state changes: one line when it learns the database is down, one when it is back
    web = [r["message"] for r in _records(rig.logs["web"])]
    assert 2 <= sum(m.startswith("database unreachable: ") for m in web) <= 4, web
    assert sum(m.startswith("database reachable again after") for m in web) >= 2, web
    # the worker's jobs: at most one line each per outage
    worker = Counter(r["message"].split(":")[0] for r in _records(rig.logs["worker"])
                     if "database unreachable" in r.get("message", ""))
    assert worker and max(worker.values()) <= 2, worker


def _records(log: Path) -> list[dict]:
    """The process's JSON log records (lines that are not JSON are kept as a message)."""
    records = []
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"message": line}
        records.append(record if isinstance(record, dict) else {"message": line})
    return records
