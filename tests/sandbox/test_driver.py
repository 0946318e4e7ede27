"""The signed request driver, checked against slack_sdk's verifier and a real Bolt app served over HTTP."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import time_machine
from slack_bolt import Ack, App, BoltContext, BoltRequest, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from desk.sandbox import BOT_ID, BOT_USER_ID, SlackDriver, SlackStandIn, payloads, signature
from desk.sandbox.ids import wall_time

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
COUNCIL_TEAM, COUNCIL_USER, COUNCIL_CHANNEL = "T0CHW", "U0CHW1", "C0CHW"


# --- signatures -------------------------------------------------------------------------------------


def test_signatures_verify_with_slack_sdk_and_fail_with_a_wrong_secret_or_stale_timestamp() -> None:
    body = payloads.interaction_body(payloads.global_shortcut("desk.new_request", user="U1", user_team="T1"))
    now = int(wall_time())
    verifier = SignatureVerifier(SECRET)
    driver = SlackDriver("http://127.0.0.1:9/slack/events", SECRET)

    good = driver.signed_headers(body.encode(), timestamp=now)
    forged = driver.signed_headers(body.encode(), timestamp=now, secret="not-the-secret")
    stale = driver.signed_headers(body.encode(), timestamp=now - 600)

    assert good["X-Slack-Signature"] == signature(body.encode(), secret=SECRET, timestamp=now)
    assert verifier.is_valid(body, good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"])
    assert not verifier.is_valid(body, forged["X-Slack-Request-Timestamp"], forged["X-Slack-Signature"])
    assert not verifier.is_valid(body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"])


# --- builders keep the fixtures' shape --------------------------------------------------------------

NOT_FOR_NON_GRID_ORGS = {"enterprise_id", "enterprise_name", "team.enterprise_id", "team.enterprise_name",
                         "authed_users"}  # councils are plain workspaces; authed_users is deprecated


def key_paths(value: object, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= key_paths(item, prefix + "[]")
    return found


def fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text()
    return json.loads(text) if name.endswith(".json") else dict(parse_qsl(text.strip()))


def built_like_fixtures() -> dict[str, Any]:
    message = payloads.message_event("<@U222> test", user="U1", user_team="T1", channel="C1")
    form_view = {"id": "V1", "type": "modal", "blocks": [{"type": "input", "block_id": "hspI", "label": {
        "type": "plain_text", "text": "Label"}, "optional": False, "element": {
            "type": "plain_text_input", "action_id": "maBWU"}}]}
    return {
        "event_message.json": payloads.message("Hello World!", user="U1", user_team="T1", channel="C1"),
        "event_app_mention_shared_channel.json": payloads.app_mention(
            "Hi there!", user="U1", user_team="T1", channel="C1"),
        "event_reaction_added_shared_channel.json": payloads.reaction_added(
            "ticket", user="U1", user_team="T1", channel="C1", item_ts="1.2", item_user="U2"),
        "event_app_home_opened.json": payloads.app_home_opened(user="U1", user_team="T1"),
        "block_actions.json": payloads.block_action("a", value="v", user="U1", user_team="T1", channel="C1"),
        "view_submission.json": payloads.view_submission(
            "view-id", values={"hspI": {"maBWU": "test"}}, user="U1", user_team="T1"),
        "view_closed.json": payloads.view_closed("view-id", user="U1", user_team="T1", view=form_view),
        "global_shortcut.json": payloads.global_shortcut("cb", user="U1", user_team="T1"),
        "message_shortcut.json": payloads.message_shortcut(
            "cb", user="U1", user_team="T1", channel="C1", message=message),
        "slash_command.txt": payloads.slash_command("Hi", user="U1", user_team="T1", channel="C1"),
    }


@pytest.mark.parametrize("name", sorted(built_like_fixtures()))
def test_every_builder_carries_every_field_of_its_fixture(name: str) -> None:
    assert key_paths(fixture(name)) - key_paths(built_like_fixtures()[name]) - NOT_FOR_NON_GRID_ORGS == set()


def test_builders_mint_fresh_ids_and_keep_slack_connect_traps() -> None:
    first = payloads.message("a &lt; b <@U0ENG1>", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel="C1")
    second = payloads.message("again", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel="C1")
    reaction = payloads.reaction_added("ticket", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel="C1",
                                       item_ts=first["event"]["ts"], item_user=COUNCIL_USER)

    assert first["event_id"] != second["event_id"] and first["event"]["ts"] < second["event"]["ts"]
    assert first["authorizations"][0]["team_id"] == "T0SUPPORT" and first["team_id"] == COUNCIL_TEAM
    assert first["is_ext_shared_channel"] is True
    assert first["event"]["blocks"][0]["elements"][0]["elements"] == [
        {"type": "text", "text": "a < b "}, {"type": "user", "user_id": "U0ENG1"}]
    assert "team" not in reaction["event"] and "user_team" not in reaction["event"]


def test_interactivity_builders_shape_state_values_and_selections() -> None:
    values = {
        "priority": {"choice": payloads.static_select_value("P2", "P2 – high"),
                     "owner": payloads.users_select_value("U0ENG1")},
        "reason": {"text": "Payments down"},
    }
    submission = payloads.view_submission("desk.priority_modal", values=values, user="U0ENG1",
                                          user_team="T0SUPPORT", private_metadata='{"ref":1}')
    select = payloads.block_action("desk.priority", selected_option=payloads.option("P1"), user="U0ENG1",
                                   user_team="T0SUPPORT", channel="C0TRIAGE")
    joined = payloads.member_joined_channel(user="U0CHW2", user_team=COUNCIL_TEAM, channel=COUNCIL_CHANNEL)

    state = submission["view"]["state"]["values"]
    assert state["priority"]["choice"]["selected_option"]["value"] == "P2"
    assert state["priority"]["owner"] == {"type": "users_select", "selected_user": "U0ENG1"}
    assert state["reason"]["text"] == {"type": "plain_text_input", "value": "Payments down"}
    assert submission["view"]["private_metadata"] == '{"ref":1}'
    assert submission["view"]["app_installed_team_id"] == "T0SUPPORT"
    assert select["actions"][0]["type"] == "static_select"
    assert select["actions"][0]["selected_option"]["value"] == "P1"
    assert joined["event"]["team"] == COUNCIL_TEAM and joined["is_ext_shared_channel"] is True


# --- a real Bolt app behind a real HTTP server ------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Received:
    kind: str
    body: dict[str, Any]
    context: BoltContext
    headers: dict[str, Any]


@dataclass
class BoltApp:
    driver: SlackDriver
    inbox: queue.Queue[Received]

    def next(self, kind: str) -> Received:
        received = self.inbox.get(timeout=5)
        assert received.kind == kind
        return received


INTAKE_MODAL = {
    "type": "modal", "callback_id": "desk.intake", "title": {"type": "plain_text", "text": "New request"},
    "submit": {"type": "plain_text", "text": "Open"},
    "blocks": [{"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "value"}}],
}


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack
        assert slack.violations == []


@pytest.fixture
def bolt(stand_in: SlackStandIn) -> Iterator[BoltApp]:
    """A tiny Bolt app whose listeners report what reached them; its WebClient talks to the stand-in."""
    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=stand_in.api_url),
              token_verification_enabled=False, request_verification_enabled=True)
    inbox: queue.Queue[Received] = queue.Queue()

    def record(kind: str, body: dict[str, Any], context: BoltContext, request: BoltRequest) -> None:
        inbox.put(Received(kind, body, context, dict(request.headers)))

    @app.event("message")
    def on_message(body: dict[str, Any], context: BoltContext, request: BoltRequest) -> None:
        record("message", body, context, request)

    @app.event("reaction_added")
    def on_reaction(body: dict[str, Any], context: BoltContext, request: BoltRequest) -> None:
        record("reaction_added", body, context, request)

    @app.command("/desk")
    def on_command(ack: Ack, respond: Respond, body: dict[str, Any], context: BoltContext,
                   request: BoltRequest) -> None:
        ack()
        respond(text="Opening a request form…", response_type="ephemeral")
        record("command", body, context, request)

    @app.action("desk.claim")
    def on_claim(ack: Ack, body: dict[str, Any], context: BoltContext, request: BoltRequest) -> None:
        ack()
        record("action", body, context, request)

    @app.shortcut("desk.from_message")
    def on_shortcut(ack: Ack, client: WebClient, body: dict[str, Any], context: BoltContext,
                    request: BoltRequest) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=INTAKE_MODAL)
        record("shortcut", body, context, request)

    @app.view("desk.intake")
    def on_submit(ack: Ack, body: dict[str, Any], context: BoltContext, request: BoltRequest) -> None:
        ack()
        record("submission", body, context, request)

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    driver = SlackDriver(f"http://127.0.0.1:{server.server_port}/slack/events", SECRET,
                         hooks_url=stand_in.hooks_url)
    yield BoltApp(driver, inbox)
    server.shutdown()
    server.server_close()


def test_a_message_event_reaches_its_listener_with_the_installation_and_the_actor(bolt: BoltApp) -> None:
    body = bolt.driver.message("Card payments are failing", user=COUNCIL_USER, user_team=COUNCIL_TEAM,
                               channel=COUNCIL_CHANNEL)
    answer = bolt.driver.send_event(body)

    received = bolt.next("message")
    assert answer.status == 200
    assert received.body == body
    assert (received.context.team_id, received.context.actor_team_id) == ("T0SUPPORT", COUNCIL_TEAM)
    assert received.context.bot_user_id == BOT_USER_ID  # Bolt asked the stand-in's auth.test


def test_a_redelivery_is_the_same_body_freshly_signed_with_retry_headers(bolt: BoltApp) -> None:
    first = bolt.driver.send_event(bolt.driver.message("hello", user=COUNCIL_USER, user_team=COUNCIL_TEAM,
                                                       channel=COUNCIL_CHANNEL))
    again = bolt.driver.redeliver(first, retry_num=1)

    original, retried = bolt.next("message"), bolt.next("message")
    assert (first.status, again.status) == (200, 200)
    assert again.request.body == first.request.body and retried.body == original.body
    assert retried.headers["x-slack-retry-num"] == ["1"]
    assert retried.headers["x-slack-retry-reason"] == ["http_timeout"]
    assert "x-slack-retry-num" not in original.headers


def test_bolt_sees_no_actor_for_a_reaction_in_a_shared_channel(bolt: BoltApp) -> None:
    """Slack's reaction_added names no team, so Bolt cannot say whose organisation reacted: desk must ask."""
    bolt.driver.send_event(bolt.driver.reaction_added("ticket", user=COUNCIL_USER, user_team=COUNCIL_TEAM,
                                                      channel=COUNCIL_CHANNEL, item_ts="1767600000.000100",
                                                      item_user=COUNCIL_USER))

    received = bolt.next("reaction_added")
    assert (received.context.team_id, received.context.actor_team_id) == ("T0SUPPORT", None)


def test_the_bots_own_messages_are_dropped_by_bolt(bolt: BoltApp) -> None:
    own = bolt.driver.message("CHW-1 opened", user=BOT_USER_ID, user_team="T0SUPPORT",
                              channel=COUNCIL_CHANNEL, bot_id=BOT_ID, subtype="bot_message")
    person = bolt.driver.message("thanks", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel=COUNCIL_CHANNEL)
    bolt.driver.send_event(own)
    bolt.driver.send_event(person)

    assert bolt.next("message").body["event"]["text"] == "thanks"
    with pytest.raises(queue.Empty):
        bolt.inbox.get(timeout=0.2)


def test_a_slash_command_reaches_its_listener_and_its_response_lands_in_the_stand_in(
    bolt: BoltApp, stand_in: SlackStandIn
) -> None:
    answer = bolt.driver.send_form(bolt.driver.slash_command("new", user=COUNCIL_USER, user_team=COUNCIL_TEAM,
                                                             channel=COUNCIL_CHANNEL))

    received = bolt.next("command")
    assert answer.status == 200
    assert (received.body["command"], received.body["text"], received.body["user_id"]) == (
        "/desk", "new", COUNCIL_USER)
    hook = stand_in.wait_for("response_url")[0]
    assert hook.args["text"] == "Opening a request form…" and hook.args["response_type"] == "ephemeral"
    assert hook.args["url"].startswith(f"/hooks/commands/{COUNCIL_TEAM}/")


def test_a_block_action_reaches_its_listener(bolt: BoltApp) -> None:
    payload = bolt.driver.block_action("desk.claim", value='{"ref": "CHW-1"}', user="U0ENG1",
                                       user_team="T0SUPPORT", channel="C0TRIAGE",
                                       message_ts="1767600000.000100")
    answer = bolt.driver.send_interaction(payload)

    received = bolt.next("action")
    assert answer.status == 200
    assert received.body["actions"][0]["value"] == '{"ref": "CHW-1"}'
    assert received.body["container"]["message_ts"] == "1767600000.000100"
    assert received.context.user_id == "U0ENG1" and received.context.channel_id == "C0TRIAGE"


def test_a_message_shortcut_opens_a_modal_whose_submission_reaches_its_listener(
    bolt: BoltApp, stand_in: SlackStandIn
) -> None:
    message = payloads.message_event("Refunds stuck since 9am", user=COUNCIL_USER, user_team=COUNCIL_TEAM,
                                     channel=COUNCIL_CHANNEL)
    bolt.driver.send_interaction(bolt.driver.message_shortcut(
        "desk.from_message", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel=COUNCIL_CHANNEL,
        message=message))
    shortcut = bolt.next("shortcut")
    assert shortcut.body["message"]["text"] == "Refunds stuck since 9am"
    opened = stand_in.wait_for("views.open")[0].response["view"]

    submission = bolt.driver.view_submission("desk.intake", values={"title": {"value": "Refunds stuck"}},
                                             user=COUNCIL_USER, user_team=COUNCIL_TEAM, view=opened)
    answer = bolt.driver.send_interaction(submission)

    received = bolt.next("submission")
    assert answer.status == 200
    assert received.body["view"]["id"] == opened["id"]
    assert received.body["view"]["state"]["values"]["title"]["value"]["value"] == "Refunds stuck"
    assert (received.context.team_id, received.body["user"]["team_id"]) == ("T0SUPPORT", COUNCIL_TEAM)


def test_bad_signatures_and_stale_timestamps_get_401(bolt: BoltApp) -> None:
    body = bolt.driver.message("hi", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel=COUNCIL_CHANNEL)

    forged = bolt.driver.send_event(body, secret="guessed")
    stale = bolt.driver.send_event(body, timestamp=int(wall_time()) - 600)
    unsigned = bolt.driver.post_raw(json.dumps(body).encode(), {"Content-Type": "application/json"},
                                    sign=False)

    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    assert bolt.inbox.empty()


def test_url_verification_is_answered_with_the_challenge(bolt: BoltApp) -> None:
    answer = bolt.driver.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")

    assert answer.status == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_bolt_parses_a_body_before_verifying_it_so_malformed_ones_crash_the_adapter(bolt: BoltApp) -> None:
    """What desk's HTTP layer must guard against: Bolt's BoltRequest json-decodes `payload` in its
    constructor, before the signature check, so garbage (signed or not) escapes as a 500, not a 400/401."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    signed = bolt.driver.post_raw(b"payload=%7Bnot-json", form)
    unsigned = bolt.driver.post_raw(b"payload=%7Bnot-json", form, sign=False)

    assert (signed.status, unsigned.status) == (500, 500)
    assert bolt.inbox.empty()


def test_time_travel_moves_signatures_and_timestamps_together(bolt: BoltApp, stand_in: SlackStandIn) -> None:
    """time-machine moves `time.time_ns`, which the sandbox reads: signed requests and message ts follow."""
    monday_9am = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(monday_9am, tick=False):
        body = bolt.driver.message("hi", user=COUNCIL_USER, user_team=COUNCIL_TEAM, channel=COUNCIL_CHANNEL)
        answer = bolt.driver.send_event(body)
        client = WebClient(token="xoxb-test", base_url=stand_in.api_url)
        posted = client.chat_postMessage(channel="C1", text="a")

    assert answer.status == 200 and bolt.next("message").body == body
    assert int(float(body["event"]["ts"])) == int(float(posted["ts"])) == int(monday_9am.timestamp())
