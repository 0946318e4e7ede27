"""Two web processes and two workers on one PostgreSQL: every ticket once, every notification once, none lost.

Real processes (`desk serve --http` under gunicorn, `desk worker`), the real clock, and a playbook whose
targets are seconds long (tests/fixtures/fast-playbooks) so SLA steps fall due while the test watches.
PostgreSQL only: on SQLite one process does everything by design.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from tests.processes import FAST_PLAYBOOKS, DeskProcesses, desk_env
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, SECRET, USERS

TICKETS = 16
STEPS_PER_TICKET = 3  # respond 50 % (triage), respond 100 % (duty lead), resolve 100 % (service manager)

pytestmark = pytest.mark.skipif(not os.environ.get("DESK_TEST_DATABASE_URL", "").startswith("postgresql"),
                                reason="replicas need PostgreSQL (.ci/run runs this on PostgreSQL)")


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[tuple[list[SlackDriver], SlackStandIn, str]]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        env = desk_env(database_url, slack, playbooks=FAST_PLAYBOOKS, token="xoxb-replicas")
        processes = DeskProcesses(env, tmp_path)
        try:
            ports = [processes.serve("web0"), processes.serve("web1")]
            for i, port in enumerate(ports):
                processes.wait_healthy(f"web{i}", port)
            processes.start("worker0", "worker")
            processes.start("worker1", "worker")
            yield ([SlackDriver(f"http://127.0.0.1:{p}/slack/events", SECRET, hooks_url=slack.hooks_url)
                    for p in ports], slack, database_url)
        finally:
            processes.stop()
        assert slack.violations == []


def test_two_webs_and_two_workers_do_everything_exactly_once(cluster) -> None:
    drivers, slack, database_url = cluster
    for n in range(TICKETS):
        body = drivers[n % 2].message(f"We cannot take card payments at site {n}", user=ALICE, user_team=CHERWELL,
                                      channel=CHERWELL_CHANNEL)
        first = drivers[n % 2].send_event(body)
        again = drivers[(n + 1) % 2].redeliver(first, retry_num=1)  # Slack retried; the other replica got it
        assert (first.status, again.status) == (200, 200)
        assert first.elapsed < 3 and again.elapsed < 3

    engine = create_engine(database_url)

    def scalar(sql: str) -> int:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar_one()

    # Wait until every step has been swept and every notification has left (posts to one channel are
    # paced to one a second, so this takes a while by design).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        due = scalar("SELECT count(*) FROM sla_clock WHERE next_step_at IS NOT NULL")
        pending = scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        if due == 0 and pending == 0:
            break
        time.sleep(1)
    time.sleep(2)  # anything still in flight lands now, or never

    with engine.connect() as connection:
        refs = [r[0] for r in connection.execute(text("SELECT ref FROM ticket ORDER BY number"))]
        rows = connection.execute(text(
            "SELECT idempotency_key, status FROM outbox WHERE kind = 'escalation'")).all()
        escalated = connection.execute(text(
            "SELECT ticket_ref, data FROM ticket_event WHERE type = 'escalated'")).all()
    engine.dispose()

    assert refs == [f"CHW-{n}" for n in range(1, TICKETS + 1)]  # every message once, despite redelivery
    assert all(status == "sent" for _, status in rows), Counter(s for _, s in rows)
    # every step of every ticket fired, as a sent notification or recorded as superseded, exactly once
    fired = Counter()
    for ref, data in escalated:
        data = data if isinstance(data, dict) else json.loads(data)
        for step in [data, *data["superseded"]]:
            fired[(ref, step["metric"], step["threshold"])] += 1
    assert set(fired) == {(ref, m, t) for ref in refs for m, t in (("respond", 50), ("respond", 100), ("resolve", 100))}
    assert set(fired.values()) == {1}
    # Slack saw each notification once: one post per sent outbox row (its text names the ticket and metric)
    escalation_posts = [c for c in slack.calls_to("chat.postMessage")
                        if c.ok and (" warning" in c.args.get("text", "") or " breached" in c.args.get("text", ""))]
    assert len(escalation_posts) == len(rows)
    # and each ticket got its confirmation and its card exactly once
    confirmations = Counter(c.args.get("thread_ts") for c in slack.calls_to("chat.postMessage")
                            if c.ok and c.args["channel"] == CHERWELL_CHANNEL and c.args.get("thread_ts"))
    assert len(confirmations) == TICKETS and set(confirmations.values()) == {1}
