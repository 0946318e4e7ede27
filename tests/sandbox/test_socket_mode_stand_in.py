"""The Socket Mode stand-in on its own, with a plain WebSocket client: `apps.connections.open` is checked like
every Web API call and hands out one-connection URLs; `hello` first; envelopes shaped as Slack sends them;
acks recorded, and the ones Slack would not take (late, unknown, twice, a payload on an event) are
violations; `disconnect` says its reason and closes."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from desk.sandbox.slack_api import SlackStandIn
from desk.sandbox.socket_mode import ACK_DEADLINE_SECONDS, LINK_DISABLED


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        yield stand_in


def open_url(slack: SlackStandIn, token: str = "xapp-1-A0-1-test") -> str:
    return WebClient(base_url=slack.api_url).apps_connections_open(app_token=token)["url"]


def test_a_url_only_for_an_app_level_token_and_only_with_socket_mode_on(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        open_url(slack)
    assert refused.value.response["error"] == "forbidden_team"
    slack.enable_socket_mode()
    with pytest.raises(SlackApiError) as bot_token:
        open_url(slack, token="xoxb-a-bot-token")
    assert bot_token.value.response["error"] == "invalid_auth"
    url = open_url(slack)
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    assert [c.method for c in slack.calls] == ["apps.connections.open"] * 3 and slack.violations == []


def test_hello_then_envelopes_as_slack_sends_them_and_acks_recorded(slack: SlackStandIn) -> None:
    socket = slack.enable_socket_mode()
    with connect(open_url(slack)) as client:
        hello = json.loads(client.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"]
        socket.wait_connections(1)
        event = socket.send_event({"type": "event_callback", "event_id": "Ev1", "event": {"type": "message"}})
        command = socket.send_command({"command": "/desk", "text": "help", "trigger_id": "1.2.abc"})
        received = [json.loads(client.recv(timeout=5)) for _ in range(2)]
        assert [(m["type"], m["accepts_response_payload"], m["retry_attempt"]) for m in received] == [
            ("events_api", False, 0), ("slash_commands", True, 0)]
        assert received[0]["payload"]["event_id"] == "Ev1" and received[1]["payload"]["command"] == "/desk"
        client.send(json.dumps({"envelope_id": event.envelope_id}))
        client.send(json.dumps({"envelope_id": command.envelope_id, "payload": {"text": "Here is help"}}))
        assert socket.wait_ack(event).payload == {}
        assert socket.wait_ack(command).payload == {"text": "Here is help"}
        again = socket.redeliver(event)
        retried = json.loads(client.recv(timeout=5))
        assert (retried["envelope_id"], retried["retry_attempt"], retried["retry_reason"]) == (
            again.envelope_id, 1, "timeout")
        assert again.envelope_id != event.envelope_id
    assert socket.violations == []


def test_acks_slack_would_not_take_are_violations(slack: SlackStandIn) -> None:
    socket = slack.enable_socket_mode()
    with connect(open_url(slack)) as client:
        client.recv(timeout=5)
        socket.wait_connections(1)
        event = socket.send_event({"type": "event_callback", "event_id": "Ev2", "event": {"type": "message"}})
        client.recv(timeout=5)
        client.send(json.dumps({"envelope_id": event.envelope_id, "payload": {"text": "no"}}))
        client.send(json.dumps({"envelope_id": event.envelope_id}))
        client.send(json.dumps({"envelope_id": "never-sent"}))
        late = socket.send_interaction({"type": "block_actions", "trigger_id": "1.2.x"})
        client.recv(timeout=5)
        time.sleep(ACK_DEADLINE_SECONDS + 0.2)
        client.send(json.dumps({"envelope_id": late.envelope_id}))
        assert socket.wait_ack(late).late
    problems = "\n".join(socket.violations)
    assert "a payload in the ack of an events_api envelope" in problems
    assert "acked twice" in problems and "never sent" in problems and "Slack waits 3 s" in problems


def test_a_ticket_opens_one_connection_and_disconnect_says_why_then_closes(slack: SlackStandIn) -> None:
    socket = slack.enable_socket_mode()
    url = open_url(slack)
    with connect(url) as client:
        client.recv(timeout=5)
        socket.wait_connections(1)
        with connect(url) as reused:  # the same ticket again: refused
            with pytest.raises(ConnectionClosed):
                reused.recv(timeout=5)
        assert socket.refused == 1
        socket.disconnect(LINK_DISABLED)
        assert json.loads(client.recv(timeout=5))["reason"] == "link_disabled"
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=5)
