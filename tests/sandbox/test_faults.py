"""Fault windows: Slack misbehaving for a while, through the real stand-in and the real `WebClient`."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from desk.sandbox import SlackStandIn
from desk.sandbox.faults import Fault, FaultQueue


class HandClock:
    """A monotonic clock the test moves by hand, for the queue's own time arithmetic."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


@pytest.fixture
def client(stand_in: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[])


def post(client: WebClient, channel: str = "C1") -> str:
    """Post once; the outcome as a short word: ok, the `error` code, the HTTP status, or the exception."""
    try:
        client.chat_postMessage(channel=channel, text="hello")
    except SlackApiError as err:
        return f"{err.response.status_code}:{err.response.get('error')}"
    except OSError as err:  # dropped connections and timeouts
        return type(err).__name__
    return "ok"


def test_a_window_hands_out_its_mix_in_turn_until_it_ends(stand_in: SlackStandIn, client: WebClient) -> None:
    mix = [Fault(status=500, error="internal_error"), Fault(error="fatal_error"), Fault(rate_limited=1),
           Fault(disconnect=True), Fault()]
    with stand_in.outage(mix, methods="chat.postMessage") as window:
        during = [post(client) for _ in range(6)]
        assert client.auth_test()["ok"]  # other methods are not in this window
    after = post(client)

    assert during == ["500:internal_error", "200:fatal_error", "429:ratelimited", "RemoteDisconnected", "ok",
                      "500:internal_error"]
    assert after == "ok" and not window.active
    assert window.served == {"500:internal_error": 2, "ok:false:fatal_error": 1, "429": 1, "disconnect": 1,
                             "none": 1}
    limited = [call for call in stand_in.calls_to("chat.postMessage") if call.status == 429]
    assert [call.fault for call in limited] == [Fault(rate_limited=1)]
    assert stand_in.violations == []


def test_a_window_ends_by_itself_after_its_seconds(stand_in: SlackStandIn, client: WebClient) -> None:
    window = stand_in.outage(Fault(error="service_unavailable"), seconds=0.5)
    first = post(client)
    deadline = time.monotonic() + 10
    outcomes = [first]
    while outcomes[-1] != "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
        outcomes.append(post(client))

    assert first == "200:service_unavailable"
    assert outcomes[-1] == "ok", outcomes
    assert not window.active and stand_in.faults.windows() == []


def test_a_window_can_be_narrowed_to_one_channel_for_good(stand_in: SlackStandIn, client: WebClient) -> None:
    gone = stand_in.outage(Fault(error="not_in_channel"), methods=["chat.postMessage", "chat.update"],
                           where={"channel": "C_GONE"})

    assert [post(client, "C_GONE"), post(client, "C1"), post(client, "C_GONE")] == [
        "200:not_in_channel", "ok", "200:not_in_channel"]
    assert gone.active and gone.served == {"ok:false:not_in_channel": 2}


def test_slow_answers_outlast_a_client_timeout_and_still_happen(stand_in: SlackStandIn) -> None:
    impatient = WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[], timeout=0.2)
    with stand_in.outage(Fault(latency=0.6), methods="chat.postMessage"):
        outcome = post(impatient)
    stand_in.wait_for("chat.postMessage", timeout=5)

    assert outcome == "TimeoutError"
    (call,) = stand_in.calls_to("chat.postMessage")
    assert call.ok and call.fault == Fault(latency=0.6)  # Slack did post it: the caller just never heard


def test_a_rate_limited_call_inside_a_window_is_retried_by_the_client(stand_in: SlackStandIn) -> None:
    patient = WebClient(token="xoxb-test", base_url=stand_in.api_url,
                        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    with stand_in.outage([Fault(rate_limited=1), Fault()], methods="chat.postMessage"):
        assert patient.chat_postMessage(channel="C1", text="after the limit")["ok"]

    limited, delivered = stand_in.calls_to("chat.postMessage")
    assert (limited.status, delivered.status) == (429, 200)
    assert delivered.at - limited.at >= 1.0


def test_queued_faults_come_before_windows_and_reset_ends_windows(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    window = stand_in.outage(Fault(error="internal_error"))
    stand_in.inject("chat.postMessage", error="channel_not_found")

    assert [post(client), post(client)] == ["200:channel_not_found", "200:internal_error"]
    stand_in.reset()
    assert post(client) == "ok" and not window.active


def test_a_seeded_window_draws_the_same_faults_again() -> None:
    mix = [Fault(error="internal_error"), Fault(status=503), Fault(rate_limited=2), Fault()]
    draws = []
    for _ in range(2):
        queue = FaultQueue()
        queue.add_window("*", mix, seed=1234)
        draws.append([queue.take("chat.postMessage") for _ in range(40)])

    assert draws[0] == draws[1]
    assert {fault.kind for fault in draws[0] if fault} == {"ok:false:internal_error", "503", "429", "none"}


def test_windows_follow_the_clock_they_are_given() -> None:
    clock = HandClock()
    queue = FaultQueue(clock)
    queue.add_window("chat.update", Fault(status=500), seconds=10)

    assert queue.take("chat.update") == Fault(status=500)
    assert queue.take("chat.postMessage") is None
    clock.now += 9.9
    assert queue.take("chat.update") == Fault(status=500)
    clock.now += 0.1
    assert queue.take("chat.update") is None and queue.windows() == []


@pytest.mark.parametrize(("faults", "seconds", "methods", "problem"), [
    ([], 1.0, "*", "at least one fault"),
    ([Fault(status=500)], 0.0, "*", "seconds must be positive"),
    ([Fault(status=500)], 1.0, [], "at least one method"),
])
def test_a_window_that_cannot_work_is_refused(faults: list[Fault], seconds: float, methods: str | list[str],
                                              problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FaultQueue().add_window(methods, faults, seconds=seconds)


def test_a_request_cut_off_before_its_body_is_not_acted_on(stand_in: SlackStandIn) -> None:
    """A client killed between its headers and its body (http.client writes them apart) sent half a request:
    the stand-in answers nothing and records nothing, as Slack would; it does not see a call missing its
    arguments."""
    host, port = stand_in.api_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as cut:
        cut.sendall(b"POST /api/users.info HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer xoxb-test\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\nuser=U")
        cut.shutdown(socket.SHUT_WR)
        assert cut.recv(100) == b""  # closed without an answer

    assert stand_in.violations == []
    assert stand_in.calls_to("users.info") == []
    assert WebClient(token="xoxb-test", base_url=stand_in.api_url).auth_test()["ok"]  # still serving
