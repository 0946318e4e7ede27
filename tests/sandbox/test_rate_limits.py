"""Slack's rate limits in the stand-in, driven by the real slack_sdk WebClient over real HTTP.

Most tests move the limiter's clock by hand (`Ticks`), so "after waiting" is exact and instant; one waits
for real, through slack_sdk's own rate-limit retry handler, as desk's clients do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from desk.sandbox import SlackStandIn
from desk.sandbox.rate_limits import POST_PER_CHANNEL, TIERS, Allowance, RateLimits, minimum_seconds


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def stand_in(ticks: Ticks) -> Iterator[SlackStandIn]:
    with SlackStandIn(rate_limits=RateLimits(clock=ticks)) as slack:
        yield slack


def client_for(stand_in: SlackStandIn, token: str = "xoxb-workspace-a") -> WebClient:
    return WebClient(token=token, base_url=stand_in.api_url, retry_handlers=[])


def limited(call: object) -> SlackApiError:
    """The SlackApiError a call over the limit raises, checked to be Slack's 429."""
    assert callable(call)
    with pytest.raises(SlackApiError) as refused:
        call()
    response = refused.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    return refused.value


def retry_after(error: SlackApiError) -> str:
    return str(error.response.headers["Retry-After"])


def post(client: WebClient, channel: str, text: str = "hello") -> object:
    return client.chat_postMessage(channel=channel, text=text)


def test_off_by_default_so_existing_tests_never_see_a_429() -> None:
    with SlackStandIn() as slack:
        client = client_for(slack)
        for _ in range(TIERS["t2"].burst + 5):
            client.users_list()
        for index in range(POST_PER_CHANNEL.burst + 5):
            post(client, "C0GENERAL", f"message {index}")
        assert [call.status for call in slack.calls] == [200] * len(slack.calls)
        assert slack.rate_limits is None


def test_a_tier_2_method_allows_its_burst_then_answers_429_with_retry_after_in_whole_seconds(
    stand_in: SlackStandIn, ticks: Ticks,
) -> None:
    client = client_for(stand_in)
    for _ in range(TIERS["t2"].burst):
        assert client.users_list()["ok"] is True
    refused = limited(client.users_list)
    # 20 a minute: one call every 3 s, and the bucket is empty
    assert retry_after(refused) == "3"
    assert stand_in.last("users.list").status == 429
    assert stand_in.violations == []
    ticks.advance(3)
    assert client.users_list()["ok"] is True
    limited(client.users_list)  # one call's worth came back, and it was spent


def test_a_call_after_a_partial_wait_is_refused_with_the_rest_of_the_wait(
    stand_in: SlackStandIn, ticks: Ticks,
) -> None:
    client = client_for(stand_in)
    for _ in range(TIERS["t2"].burst):
        client.users_list()
    ticks.advance(1.5)
    assert retry_after(limited(client.users_list)) == "2"  # 1.5 s left, rounded up as Slack does
    ticks.advance(1.5)
    assert client.users_list()["ok"] is True


def test_the_tier_comes_from_the_method_reference(stand_in: SlackStandIn, ticks: Ticks) -> None:
    stand_in.users = {"U0ANYONE": {"id": "U0ANYONE", "team_id": "T0SUPPORT", "name": "anyone",
                                   "real_name": "Any One", "tz": "Europe/London"}}
    client = client_for(stand_in)
    for _ in range(TIERS["t4"].burst):  # users.info is Tier 4: 100 a minute, 0.6 s apart
        client.users_info(user="U0ANYONE")
    assert retry_after(limited(lambda: client.users_info(user="U0ANYONE"))) == "1"
    for _ in range(TIERS["t3"].burst):  # team.info is Tier 3, with its own bucket
        client.team_info()
    assert retry_after(limited(client.team_info)) == "2"  # 50 a minute: 1.2 s
    for _ in range(TIERS["t1"].burst):  # rtm.connect is Tier 1: once a minute
        client.rtm_connect()
    assert retry_after(limited(client.rtm_connect)) == "60"
    ticks.advance(0.6)
    assert client.users_info(user="U0ANYONE")["ok"] is True


def test_chat_post_message_is_limited_per_channel_and_channels_are_independent(
    stand_in: SlackStandIn, ticks: Ticks,
) -> None:
    client = client_for(stand_in)
    for index in range(POST_PER_CHANNEL.burst):
        post(client, "C0BUSY", f"burst {index}")
    assert retry_after(limited(lambda: post(client, "C0BUSY"))) == "1"
    for channel in ("C0QUIET1", "C0QUIET2", "C0QUIET3"):
        assert post(client, channel)["ok"] is True  # type: ignore[index]
    ticks.advance(1)
    assert post(client, "C0BUSY", "after waiting")["ok"] is True  # type: ignore[index]
    posted = [call.args["text"] for call in stand_in.calls_to("chat.postMessage") if call.ok]
    assert posted.count("hello") == 3 and "after waiting" in posted
    assert [call.status for call in stand_in.calls_to("chat.postMessage")].count(429) == 1


def test_each_token_has_its_own_limits(stand_in: SlackStandIn) -> None:
    first, second = client_for(stand_in, "xoxb-workspace-a"), client_for(stand_in, "xoxb-workspace-b")
    for _ in range(TIERS["t2"].burst):
        first.users_list()
    limited(first.users_list)
    assert second.users_list()["ok"] is True
    for _ in range(POST_PER_CHANNEL.burst):
        post(first, "C0SHARED")
    limited(lambda: post(first, "C0SHARED"))
    assert post(second, "C0SHARED")["ok"] is True  # type: ignore[index]


def test_calls_made_before_retry_after_has_passed_are_counted_as_early(
    stand_in: SlackStandIn, ticks: Ticks,
) -> None:
    client = client_for(stand_in)
    for _ in range(TIERS["t2"].burst):
        client.users_list()
    limited(client.users_list)  # told: 3 s
    ticks.advance(2.9)
    limited(client.users_list)  # too early, and still over the limit
    limits = stand_in.rate_limits
    assert limits is not None
    assert (limits.limited, limits.early) == (2, 1)
    ticks.advance(3)
    client.users_list()
    assert (limits.limited, limits.early) == (2, 1)


def test_speed_scales_every_rate(ticks: Ticks) -> None:
    with SlackStandIn(rate_limits=RateLimits(clock=ticks, speed=3)) as slack:
        client = client_for(slack)
        for _ in range(TIERS["t2"].burst):
            client.users_list()
        assert retry_after(limited(client.users_list)) == "1"  # 60 a minute: 1 s apart
        ticks.advance(1)
        assert client.users_list()["ok"] is True


def test_enforce_rate_limits_turns_them_on_for_a_running_stand_in(ticks: Ticks) -> None:
    with SlackStandIn() as slack:
        client = client_for(slack)
        for _ in range(TIERS["t2"].burst + 1):
            client.users_list()
        slack.enforce_rate_limits(RateLimits(clock=ticks, tiers={"t2": Allowance(20, 1)}))
        client.users_list()
        limited(client.users_list)


def test_a_client_that_waits_for_retry_after_gets_its_post_through() -> None:
    """In real time, not by hand: slack_sdk's handler sleeps `Retry-After` and tries again."""
    with SlackStandIn(rate_limits=True) as slack:
        client = WebClient(token="xoxb-workspace-a", base_url=slack.api_url,
                           retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
        for index in range(POST_PER_CHANNEL.burst + 1):
            assert post(client, "C0BUSY", f"message {index}")["ok"] is True  # type: ignore[index]
        calls = slack.calls_to("chat.postMessage")
        assert [call.status for call in calls] == [200, 200, 200, 429, 200]
        assert calls[-1].at - calls[-2].at >= 1.0  # the whole second Slack asked for
        assert slack.rate_limits is not None and slack.rate_limits.early == 0
        assert slack.violations == []


def test_webhooks_and_unlimited_special_methods_are_never_refused(stand_in: SlackStandIn) -> None:
    client = client_for(stand_in)
    for _ in range(30):
        assert client.auth_test()["ok"] is True  # special tier, no figure published
    assert {call.status for call in stand_in.calls} == {200}


def test_minimum_seconds_is_the_burst_then_one_interval_per_call() -> None:
    assert minimum_seconds(20, TIERS["t4"]) == 0
    assert minimum_seconds(120, TIERS["t4"]) == pytest.approx(60)
    assert minimum_seconds(120, TIERS["t4"], speed=4) == pytest.approx(15)
    assert minimum_seconds(4, POST_PER_CHANNEL) == pytest.approx(1)


def test_an_allowance_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        Allowance(0, 1)
    with pytest.raises(ValueError, match="speed"):
        RateLimits(speed=0)
