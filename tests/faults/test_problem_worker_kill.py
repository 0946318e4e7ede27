"""A problem's updates through real `desk worker` processes, one SIGKILLed halfway through posting them:
every linked thread gets every update, and a copy twice only in the outbox's one documented window (the
post Slack accepted just before the kill, before the worker recorded it).

Real processes and the real clock: the updates are written through the service layer from the test process
(as a listener would), the stand-in answers each `chat.postMessage` after 0.3 s so the kill lands while the
worker is busy, and each worker has its own bot token so the stand-in's log says which one posted what.
`DESK_OUTBOX_LEASE_SECONDS=2` brings the killed worker's claimed rows back quickly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from desk.db.engine import make_engine, unit_of_work
from desk.sandbox.slack_api import SlackStandIn
from desk.services import problems, tickets
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_cli, eventually

THREADS = {"cherwell": ("C0CHERWELL", "1767603600.000100"), "fife": ("C0FIFE0001", "1767603600.000200"),
           "belfast": ("C0BELFAST1", "1767603600.000300")}
UPDATES = ("First: GOV.UK Pay have an incident.", "Second: a fix is being tested.", "Third: the fix is out.")


def start_worker(env: dict, token: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "desk", "worker"], env={**env, "SLACK_BOT_TOKEN": token},
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def test_a_worker_killed_while_posting_updates_loses_none(database_url: str, tmp_path: Path) -> None:
    with SlackStandIn() as slack:
        env = {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS),
               "SLACK_SIGNING_SECRET": "kill-test-secret", "DESK_SLACK_API_URL": slack.api_url,
               "DESK_OUTBOX_LEASE_SECONDS": "2", "DESK_LOG_FORMAT": "json", "DESK_LOG_LEVEL": "INFO",
               "SLACK_BOT_TOKEN": "xoxb-setup"}
        for command in (("db", "upgrade"), ("playbooks", "sync")):
            assert desk_cli(env, *command).returncode == 0
        engine = make_engine(database_url)
        now = datetime.now(UTC).replace(microsecond=0)
        with unit_of_work(engine) as session:
            refs = []
            for council, (channel, ts) in THREADS.items():
                slack.add_message({"type": "message", "user": "U0PERSON", "text": "GOV.UK Pay down", "ts": ts},
                                  channel)
                refs.append(tickets.open_ticket(session, council_id=council, title="GOV.UK Pay down",
                                                actor="U0PERSON", at=now, slack_channel=channel, slack_ts=ts).ref)
            problem = problems.open_problem(session, title="GOV.UK Pay", summary="Payments fail.", owner=None,
                                            by="U0ENGINEER1", now=now, from_ticket=refs[0])
            for ref in refs[1:]:
                problems.link(session, problem.id, ref, by="U0ENGINEER1", now=now)
            for n, words in enumerate(UPDATES):
                problems.update_problem(session, problem.id, by="U0ENGINEER1", now=now, key=f"u{n}",
                                        public_text=words)
        slack.inject("chat.postMessage", times=1000, latency=0.3)

        def posts() -> list:
            return [c for c in slack.calls_to("chat.postMessage") if c.ok and c.args.get("thread_ts")]

        first = start_worker(env, "xoxb-first", tmp_path / "first.log")
        try:
            eventually(lambda: len([c for c in posts() if c.token == "xoxb-first"]) >= 3,
                       lambda: (tmp_path / "first.log").read_text()[-2000:], timeout=90, interval=0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        by_first = len([c for c in posts() if c.token == "xoxb-first"])
        assert by_first < len(UPDATES) * len(THREADS), "the kill came too late to test anything"

        second = start_worker(env, "xoxb-second", tmp_path / "second.log")
        try:
            def all_sent() -> bool:
                with engine.connect() as connection:
                    return connection.execute(text(
                        "SELECT count(*) FROM outbox WHERE kind = 'problem_post' AND status = 'sent'")).scalar_one() == 9
            eventually(all_sent, lambda: (tmp_path / "second.log").read_text()[-2000:], timeout=90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)

        copies = Counter((c.args["channel"], c.args["thread_ts"], next(w for w in UPDATES if w in c.args["text"]))
                         for c in posts())
        expected = {(channel, ts, words) for channel, ts in THREADS.values() for words in UPDATES}
        assert set(copies) == expected  # every thread got every update, and nothing else
        twice = [post for post, n in copies.items() if n > 1]
        print(f"first worker posted {by_first}, twice: {twice}")
        assert all(n <= 2 for n in copies.values()) and len(twice) <= 1, copies  # one post in flight at the kill
        for post in twice:  # ...and only that one: the killed worker's first copy, the second worker's again
            tokens = [c.token for c in posts() if (c.args["channel"], c.args["thread_ts"]) == post[:2]
                      and post[2] in c.args["text"]]
            assert tokens == ["xoxb-first", "xoxb-second"], tokens
        engine.dispose()
