"""What every request to desk's web process must hold: signatures, malformed payloads, fast acks."""

from __future__ import annotations

import json
import time

import pytest

from desk import __version__
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk


def tickets(desk: Desk) -> list:
    with unit_of_work(desk.engine) as session:
        return list(queries.list_tickets(session))


def a_message(desk: Desk, text: str = "Refund to a resident failed with error 51") -> dict:
    return desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)


@pytest.mark.parametrize("forgery", [
    {"secret": "not-the-signing-secret"},
    {"skew": -60 * 10},  # replayed ten minutes later
    {"skew": 60 * 10},
])
def test_bad_or_stale_signatures_get_401_and_change_nothing(desk: Desk, forgery: dict) -> None:
    if "skew" in forgery:  # from the moment of sending: the suite may run long after it was collected
        forgery = {"timestamp": int(time.time()) + forgery["skew"]}
    response = desk.driver.send_event(a_message(desk), **forgery)
    assert response.status == 401
    desk.settle()
    assert tickets(desk) == [] and desk.slack.calls == []


def test_an_unsigned_request_gets_401(desk: Desk) -> None:
    body = json.dumps(a_message(desk)).encode()
    response = desk.driver.post_raw(body, {"Content-Type": "application/json"}, sign=False)
    assert response.status == 401


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'{"type": "event_callback", "event": "nope"}', "application/json"),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    (b"payload=%7B%22type%22%3A%22block_actions%22%7D", "application/x-www-form-urlencoded"),
    (b"command=%2Fdesk&text=list", "application/x-www-form-urlencoded"),
    (b"hello=world", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00", "application/json"),
])
def test_malformed_signed_payloads_get_400_never_500(desk: Desk, body: bytes, content_type: str) -> None:
    response = desk.driver.post_raw(body, {"Content-Type": content_type})
    assert response.status == 400, response.text
    desk.settle()
    assert tickets(desk) == []


def test_an_event_missing_its_fields_is_acked_and_ignored(desk: Desk) -> None:
    body = a_message(desk)
    del body["event"]["channel"]
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    assert tickets(desk) == []


def test_url_verification_is_answered(desk: Desk) -> None:
    response = desk.driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


def test_other_paths(desk: Desk) -> None:
    base = desk.driver.app_url.rsplit("/slack/events", 1)[0]
    import urllib.request

    with urllib.request.urlopen(f"{base}/healthz") as answer:
        assert json.loads(answer.read()) == {"ok": True, "version": __version__, "database": "ok",
                                             "migrations": "current"}


@pytest.mark.parametrize("fault", [{"latency": 3.5}, {"rate_limited": 2.0}, {"status": 503}, {"disconnect": True}])
def test_requests_are_acked_fast_even_when_slack_is_slow_or_refusing(desk: Desk, fault: dict) -> None:
    desk.slack.inject("*", times=2, **fault)
    response = desk.driver.send_event(a_message(desk))
    assert response.status == 200
    assert response.elapsed < 1.0  # Slack's limit is 3 s
    command = desk.driver.slash_command("list", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    answered = desk.driver.send_form(command)
    assert answered.status == 200 and answered.elapsed < 1.0
    desk.settle(timeout=40)
    assert len(tickets(desk)) == 1  # the work still happened, after the ack


def test_a_429_delays_but_does_not_lose_the_confirmation(desk: Desk) -> None:
    desk.slack.inject("chat.postMessage", times=1, rate_limited=1.0)
    started = time.monotonic()
    desk.driver.send_event(a_message(desk))
    desk.settle()
    confirmations = [c for c in desk.slack.calls_to("chat.postMessage") if c.ok]
    assert len(confirmations) == 2  # the thread reply and the triage card, each once
    assert time.monotonic() - started >= 1.0


def test_a_redelivered_event_has_one_effect(desk: Desk) -> None:
    first = desk.driver.send_event(a_message(desk))
    again = desk.driver.redeliver(first, retry_num=1)
    third = desk.driver.redeliver(first, retry_num=2, retry_reason="http_error")
    assert (first.status, again.status, third.status) == (200, 200, 200)
    desk.settle()
    assert [t.ref for t in tickets(desk)] == ["CHW-1"]
    assert len(desk.slack.calls_to("chat.postMessage")) == 2


def test_a_double_click_has_one_effect(desk: Desk) -> None:
    desk.driver.send_event(a_message(desk))
    desk.settle()
    card_ts = tickets(desk)[0].card_ts
    for _ in range(2):
        click = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                         value=TicketRef(ref="CHW-1").dump(), message_ts=card_ts)
        assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    with unit_of_work(desk.engine) as session:
        types = [e.type for e in queries.list_ticket_events(session, tickets(desk)[0].id)]
    assert types == ["opened", "assigned"]


def test_a_forged_button_value_is_refused_politely(desk: Desk) -> None:
    click = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                     value='{"ref": "../../etc"}', message_ts="1.2")
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    told = desk.slack.calls_to("response_url") + desk.slack.calls_to("chat.postEphemeral")
    assert told and "out of date or malformed" in json.dumps(told[-1].args)

