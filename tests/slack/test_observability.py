"""Operations through the real web app: `/metrics` and `/healthz` unsigned, request counters and ack
latency by payload type, tickets opened, Slack API errors from listeners, and request ids in log lines.

Counters are process-wide (desk/observability/metrics.py), so each test reads them before and after.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from desk.observability import logs, metrics
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk


def base_url(desk: Desk) -> str:
    return desk.driver.app_url.rsplit("/slack/events", 1)[0]


def scrape(desk: Desk) -> dict[tuple[str, tuple], float]:
    """GET /metrics with no credentials at all, parsed: {(sample name, sorted labels): value}."""
    with urllib.request.urlopen(f"{base_url(desk)}/metrics", timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == CONTENT_TYPE_LATEST
        text = answer.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def count(name: str, **labels: str) -> float:
    return metrics.PROCESS.get_sample_value(name, labels) or 0.0


def a_message(desk: Desk, text: str = "Refund to a resident failed with error 51") -> dict:
    return desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)


def test_metrics_and_healthz_need_no_signature(desk: Desk) -> None:
    with urllib.request.urlopen(f"{base_url(desk)}/healthz", timeout=5) as answer:
        assert answer.status == 200
    samples = scrape(desk)
    assert ("desk_outbox_depth", ()) in samples and ("desk_outbox_oldest_age_seconds", ()) in samples


def test_requests_are_counted_by_type_and_outcome_and_acks_timed(desk: Desk) -> None:
    before = {key: count("desk_requests_total", type=key[0], outcome=key[1]) for key in [
        ("event", "ok"), ("other", "unauthorized"), ("other", "malformed"), ("command", "ok"),
        ("block_actions", "ok"), ("url_verification", "ok")]}
    acks_before = count("desk_ack_seconds_count", type="event")
    fast_before = count("desk_ack_seconds_bucket", type="event", le="3.0")

    assert desk.driver.send_event(a_message(desk)).status == 200
    assert desk.driver.send_event(a_message(desk), secret="forged").status == 401
    assert desk.driver.post_raw(b"hello=world", {"Content-Type": "application/x-www-form-urlencoded"}).status == 400
    command = desk.driver.slash_command("list", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert desk.driver.send_form(command).status == 200
    click = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                     value=TicketRef(ref="CHW-1").dump(), message_ts="1.2")
    assert desk.driver.send_interaction(click).status == 200
    assert desk.driver.url_verification("challenge-accepted").status == 200
    desk.settle()

    samples = scrape(desk)
    for (kind, outcome), was in before.items():
        assert samples[("desk_requests_total", (("outcome", outcome), ("type", kind)))] == was + 1, (kind, outcome)
    # only requests Bolt answered are timed: the forged one is not
    assert samples[("desk_ack_seconds_count", (("type", "event"),))] == acks_before + 1
    assert samples[("desk_ack_seconds_bucket", (("le", "3.0"), ("type", "event")))] == fast_before + 1


def test_tickets_opened_are_counted_per_council(desk: Desk) -> None:
    before = count("desk_tickets_opened_total", council="cherwell")
    desk.driver.send_event(a_message(desk))
    desk.driver.send_event(a_message(desk, "Direct debit file rejected by the bank"))
    desk.settle()
    assert scrape(desk)[("desk_tickets_opened_total", (("council", "cherwell"),))] == before + 2


def test_slack_api_errors_from_listeners_are_counted_by_method_and_code(desk: Desk) -> None:
    before = count("desk_slack_api_errors_total", method="chat.postMessage", code="channel_not_found")
    desk.slack.inject("chat.postMessage", error="channel_not_found")
    desk.driver.send_event(a_message(desk))
    desk.settle()
    key = ("desk_slack_api_errors_total", (("code", "channel_not_found"), ("method", "chat.postMessage")))
    assert scrape(desk)[key] == before + 1


def test_the_outbox_gauges_are_read_from_the_database_at_scrape_time(desk: Desk) -> None:
    assert scrape(desk)[("desk_outbox_depth", ())] == 0
    desk.driver.send_event(desk.driver.message("We cannot take card payments at all", user=ALICE,
                                               user_team=CHERWELL, channel=CHERWELL_CHANNEL))
    desk.settle()
    desk.clock.advance(minutes=23)  # P1: respond 75 % of 30 minutes has passed
    desk.wiring.worker(channel_pace=0, enqueue_digests=None).sweep()
    desk.clock.advance(seconds=90)
    samples = scrape(desk)
    assert samples[("desk_outbox_depth", ())] == 1
    assert samples[("desk_outbox_oldest_age_seconds", ())] == 90


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """desk's JSON handler on the root logger for one test, as `desk serve` installs it."""
    stream = io.StringIO()
    handler = logs.handler(stream, fmt="json")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_listener_log_line_carries_the_request_id_and_the_ticket(desk: Desk, log_lines: io.StringIO) -> None:
    request = a_message(desk)
    desk.driver.send_event(request)
    desk.settle()
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    announced = [line for line in lines if line["logger"] == "desk.slack" and line["message"].startswith("announced")]
    assert len(announced) == 1
    assert announced[0]["request_id"] == request["event_id"]  # set in the web front, read in the listener thread
    assert announced[0]["ticket"] == "CHW-1"
    handled = [line for line in lines if line["logger"] == "desk.web"]
    assert handled and handled[0]["request_id"] == request["event_id"] and "event 200 ok" in handled[0]["message"]
    assert "xoxb-test-token" not in log_lines.getvalue()
