"""Faults the stand-in injects (429s, errors, statuses, latency, dropped connections), as slack_sdk meets
them with and without its retry handlers."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from desk.sandbox import SlackStandIn

QUICK = FixedValueRetryIntervalCalculator(0.01)
QUICK_5XX = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=QUICK)
QUICK_RECONNECT = ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=QUICK)


def test_a_429_is_retried_after_retry_after_by_the_rate_limit_handler(stand_in: SlackStandIn) -> None:
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    stand_in.inject("chat.postMessage", rate_limited=1)

    started = time.perf_counter()
    answer = client.chat_postMessage(channel="C1", text="after the limit")
    elapsed = time.perf_counter() - started

    assert answer["ok"] and elapsed >= 1.0
    limited, retried = stand_in.calls_to("chat.postMessage")
    assert (limited.status, limited.response, limited.fault and limited.fault.rate_limited) == (
        429, {"ok": False, "error": "ratelimited"}, 1)
    assert retried.ok and retried.at - limited.at >= 1.0


def test_a_429_without_a_handler_reaches_the_caller_with_retry_after(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    stand_in.inject("chat.postMessage", rate_limited=0.2)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"  # whole seconds, rounded up


def test_errors_and_statuses_are_consumed_in_order(stand_in: SlackStandIn, client: WebClient) -> None:
    stand_in.inject("chat.postMessage", error="channel_not_found")
    stand_in.inject("*", status=503, times=2)

    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError) as unavailable:
        client.auth_test()
    assert unavailable.value.response.status_code == 503
    retrying = WebClient(token="xoxb-test", base_url=stand_in.api_url,
                         retry_handlers=[QUICK_5XX])
    assert retrying.chat_postMessage(channel="C1", text="x")["ok"]
    assert [call.status for call in stand_in.calls] == [200, 503, 503, 200]
    assert stand_in.pending_faults == []


def test_latency_delays_the_answer_and_can_outlast_a_client_timeout(stand_in: SlackStandIn) -> None:
    stand_in.inject("auth.test", latency=0.3, times=2)
    patient = WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[])
    impatient = WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[], timeout=0.1)

    started = time.perf_counter()
    assert patient.auth_test()["ok"]
    assert time.perf_counter() - started >= 0.3
    with pytest.raises(TimeoutError):
        impatient.auth_test()


def test_a_dropped_connection_is_recovered_by_the_connection_error_handler(stand_in: SlackStandIn) -> None:
    stand_in.inject("chat.postMessage", disconnect=True)
    client = WebClient(token="xoxb-test", base_url=stand_in.api_url,
                       retry_handlers=[QUICK_RECONNECT])

    assert client.chat_postMessage(channel="C1", text="second try")["ok"]
    dropped, delivered = stand_in.calls_to("chat.postMessage")
    assert (dropped.status, dropped.response, delivered.status) == (0, {}, 200)


def test_a_dropped_connection_without_a_handler_raises(stand_in: SlackStandIn, client: WebClient) -> None:
    stand_in.inject("chat.postMessage", disconnect=True)
    with pytest.raises(ConnectionError):
        client.chat_postMessage(channel="C1", text="lost")


def test_response_url_faults_answer_like_the_webhook_endpoint(stand_in: SlackStandIn) -> None:
    stand_in.inject("response_url", error="expired_url")
    answer = WebhookClient(stand_in.hooks_url + "actions/T0CHW/1/x").send(text="too late")

    assert (answer.status_code, answer.body) == (404, "expired_url")
    assert stand_in.last("response_url").fault is not None
