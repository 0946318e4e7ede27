"""Metrics below the web front: backlog gauges from the database (and when it is down), Slack API errors
counted in the client, SLA steps and notifications counted by the sweeper and the dispatcher.

Counters are process-wide (desk/observability/metrics.py): each test reads them before and after.
(Request counters, ack latency and tickets opened are checked through the app in
tests/slack/test_observability.py.)
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from desk.config import Settings
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.observability import metrics
from desk.sandbox.slack_api import SlackStandIn
from desk.services import tickets
from desk.slack.app import web_client
from desk.wiring import Wiring
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ALICE, MONDAY, SECRET, USERS, HandClock


def count(name: str, **labels: str) -> float:
    return metrics.PROCESS.get_sample_value(name, labels) or 0.0


@pytest.fixture
def rig(synced: Engine, database_url: str) -> Iterator[Rig]:
    """As in tests/scheduling: the worker against the test database and the Slack stand-in."""
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        settings = Settings.from_environ({"SLACK_BOT_TOKEN": "xoxb-metrics", "SLACK_SIGNING_SECRET": SECRET,
                                          "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": slack.api_url})
        wiring = Wiring(settings, clock=HandClock(MONDAY))
        wiring.__dict__["engine"] = synced
        # These tests change the database between scrapes without time passing: a backlog read at every
        # scrape. Wiring's own (read at most every few seconds) is tested in tests/security/test_ops_endpoints.py.
        wiring.__dict__["metrics"] = metrics.registry(metrics.BacklogCollector(wiring.backlog))
        yield Rig(wiring, slack, wiring.clock, synced)  # type: ignore[arg-type]
        assert slack.violations == []


def pending(rig: Rig, key: str, *, available_at) -> None:
    with unit_of_work(rig.engine) as session:
        session.add(OutboxRow(idempotency_key=key, kind="alert", target="triage", created_at=MONDAY,
                              available_at=available_at, payload={"failed_key": "esc:1", "error": "x"}))


def gauges(wiring: Wiring) -> tuple[float, float]:
    source = wiring.metrics
    return (source.get_sample_value("desk_outbox_depth"), source.get_sample_value("desk_outbox_oldest_age_seconds"))


def test_outbox_depth_and_age_are_read_at_scrape_time(rig: Rig) -> None:
    assert gauges(rig.wiring) == (0, 0)
    pending(rig, "a", available_at=MONDAY - timedelta(minutes=5))
    pending(rig, "b", available_at=MONDAY - timedelta(minutes=1))
    pending(rig, "later", available_at=MONDAY + timedelta(hours=1))  # waiting for Retry-After: not "late"
    assert gauges(rig.wiring) == (3, 300)
    rig.clock.advance(seconds=30)
    assert gauges(rig.wiring) == (3, 330)
    rig.worker().dispatch()
    assert gauges(rig.wiring) == (1, 0)  # only the row not yet due is left


def test_sla_steps_due_show_how_far_the_sweeper_is_behind(rig: Rig) -> None:
    def due() -> float:
        return rig.wiring.metrics.get_sample_value("desk_sla_steps_due")

    with unit_of_work(rig.engine) as session:
        for _ in range(2):
            tickets.open_ticket(session, council_id="cherwell", title="We cannot take card payments at all",
                                actor=ALICE, at=MONDAY, requester=ALICE)
    assert due() == 0
    rig.clock.advance(minutes=23)  # P1 (24x7): respond 75 % of 30 minutes has passed for both
    assert due() == 2
    rig.worker().sweep()
    assert due() == 0


def test_a_database_that_is_down_gives_nan_not_a_broken_scrape(tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for url in (f"sqlite:///{tmp_path}/missing/dir/desk.db", f"postgresql+psycopg://desk@127.0.0.1:{port}/desk"):
        wiring = Wiring(Settings.from_environ({"DESK_DATABASE_URL": url}))
        depth, age = gauges(wiring)
        assert math.isnan(depth) and math.isnan(age)
        assert math.isnan(wiring.metrics.get_sample_value("desk_sla_steps_due"))
        text = generate_latest(wiring.metrics).decode()
        assert "desk_outbox_depth NaN" in text and "# HELP desk_requests_total" in text  # the rest is served


def test_each_wiring_has_its_own_registry_over_the_shared_counters(rig: Rig, tmp_path) -> None:
    other = Wiring(Settings.from_environ({"DESK_DATABASE_URL": f"sqlite:///{tmp_path}/other.db"}))
    assert other.metrics is not rig.wiring.metrics
    assert rig.wiring.metrics is rig.wiring.metrics  # built once per wiring
    metrics.TICKETS_OPENED.labels(council="registry-test").inc()
    for wiring in (rig.wiring, other):
        assert wiring.metrics.get_sample_value("desk_tickets_opened_total", {"council": "registry-test"}) >= 1


def test_slack_api_errors_are_counted_by_method_and_code_then_raised(rig: Rig) -> None:
    client = web_client(rig.wiring.settings)
    refused = count("desk_slack_api_errors_total", method="chat.postMessage", code="not_in_channel")
    rig.slack.inject("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0TRIAGE", text="hello")
    assert count("desk_slack_api_errors_total", method="chat.postMessage", code="not_in_channel") == refused + 1

    limited = count("desk_slack_api_errors_total", method="users.info", code="ratelimited")
    rig.slack.inject("users.info", times=3, rate_limited=0.1)  # more than the client's two retries
    with pytest.raises(SlackApiError):
        client.users_info(user=ALICE)
    assert count("desk_slack_api_errors_total", method="users.info", code="ratelimited") == limited + 1

    dropped = count("desk_slack_api_errors_total", method="chat.update", code="connection_error")
    rig.slack.inject("chat.update", times=3, disconnect=True)
    with pytest.raises(Exception):  # noqa: B017 - whatever urllib raises for a dropped connection
        client.chat_update(channel="C0TRIAGE", ts="1.2", text="hello")
    assert count("desk_slack_api_errors_total", method="chat.update", code="connection_error") == dropped + 1

    ok_before = count("desk_slack_api_errors_total", method="auth.test", code="ok")
    client.auth_test()
    assert count("desk_slack_api_errors_total", method="auth.test", code="ok") == ok_before  # successes are not


def test_the_sweeper_counts_steps_and_the_dispatcher_counts_outcomes(rig: Rig) -> None:
    def steps() -> tuple[float, float, float]:
        return (count("desk_sla_steps_total", kind="warn", metric="respond"),
                count("desk_sla_steps_total", kind="breach", metric="resolve"),
                count("desk_sla_steps_superseded_total"))

    def sends(outcome: str) -> float:
        return count("desk_notifications_total", kind="escalation", outcome=outcome)

    before, sent, retried, cancelled = steps(), sends("sent"), sends("retried"), sends("cancelled")
    with unit_of_work(rig.engine) as session:
        ref = tickets.open_ticket(session, council_id="cherwell", title="We cannot take card payments at all",
                                  actor=ALICE, at=MONDAY, requester=ALICE).ref
    work = rig.worker()
    rig.clock.advance(minutes=23)  # P1 (24x7): respond 75 % of 30 minutes
    rig.slack.inject("chat.postMessage", status=500)
    work.run_once()
    assert steps() == (before[0] + 1, before[1], before[2])
    assert (sends("sent"), sends("retried")) == (sent, retried + 1)
    rig.clock.advance(seconds=10)
    work.run_once()  # the warning goes out on its retry (backoff: 5 s)
    assert sends("sent") == sent + 1

    rig.clock.advance(hours=5)  # respond breach, resolve 75 % and 100 %: one message, the others superseded
    work.sweep()
    assert steps()[1:] == (before[1] + 1, before[2] + 2)
    with unit_of_work(rig.engine) as session:
        tickets.resolve(session, ref=ref, note="fixed", actor="U0ENGINEER1", at=rig.clock.now())
    work.dispatch()  # the breach message is stale now: the clock it was about stopped
    assert sends("cancelled") >= cancelled + 1
