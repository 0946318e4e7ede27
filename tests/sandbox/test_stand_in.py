"""The Web API stand-in, driven by the real slack_sdk WebClient over real HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from desk.errors import ConfigError
from desk.sandbox import SlackStandIn, payloads
from desk.sandbox.api_reference import BUNDLED, ENV_VARIABLE, resolve_reference_dir
from tests.sandbox.test_stand_in_blocks import section


def refusal(call: Callable[[], object]) -> dict[str, Any]:
    """The `ok: false` body a call got (slack_sdk raises on it)."""
    with pytest.raises(SlackApiError) as refused:
        call()
    body: dict[str, Any] = refused.value.response.data
    return body


def ts_key(ts: str) -> tuple[int, int]:
    seconds, micros = ts.split(".")
    return int(seconds), int(micros)


# --- recording and realistic answers ----------------------------------------------------------------


def test_a_valid_post_is_recorded_and_gets_a_new_increasing_ts(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C0CHW", text="Ticket CHW-1", blocks=[section("*CHW-1*")])
    second = client.chat_postMessage(channel="C0CHW", text="reply", thread_ts=first["ts"])

    assert ts_key(first["ts"]) < ts_key(second["ts"])
    assert first["message"]["user"] == stand_in.workspace.bot_user_id
    assert second["message"]["thread_ts"] == first["ts"]
    call = stand_in.last("chat.postMessage")
    assert call.args == {"channel": "C0CHW", "text": "reply", "thread_ts": first["ts"]}
    assert call.token == "xoxb-test" and call.ok and call.fault is None
    assert stand_in.calls_to("chat.postMessage")[0].args["blocks"] == [section("*CHW-1*")]
    assert stand_in.violations == []


def test_form_bodies_and_token_fields_are_read_like_json_ones(stand_in: SlackStandIn) -> None:
    form = "token=xoxb-form&channel=C1&text=hi&blocks=" + urllib.request.quote(json.dumps([section("x")]))
    request = urllib.request.Request(stand_in.api_url + "chat.postMessage", data=form.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert json.load(answer)["ok"] is True

    call = stand_in.last("chat.postMessage")
    assert call.token == "xoxb-form"
    assert call.args == {"channel": "C1", "text": "hi", "blocks": [section("x")]}


def test_state_behaves_like_slack(stand_in: SlackStandIn, client: WebClient) -> None:
    stand_in.users["U0CHW1"] = {"id": "U0CHW1", "team_id": "T0CHW", "name": "ann", "real_name": "Ann",
                                "tz": "Europe/London"}
    stand_in.channels["C0CHW"] = {"name": "chw-support", "is_ext_shared": True, "members": ["U1", "U2", "U3"]}
    stand_in.usergroups["S0ENG"] = ["U0ENG1"]
    posted = client.chat_postMessage(channel="C0CHW", text="hello")

    assert client.auth_test()["user_id"] == "U0DESKBOT"
    assert client.users_info(user="U0CHW1")["user"]["team_id"] == "T0CHW"
    assert client.conversations_info(channel="C0CHW")["channel"]["is_ext_shared"] is True
    pages = [page["members"] for page in client.conversations_members(channel="C0CHW", limit=2)]
    assert pages == [["U1", "U2"], ["U3"]]
    assert client.usergroups_users_list(usergroup="S0ENG")["users"] == ["U0ENG1"]
    assert client.chat_update(channel="C0CHW", ts=posted["ts"], text="edited")["text"] == "edited"
    assert stand_in.messages[("C0CHW", posted["ts"])]["text"] == "edited"
    permalink = client.chat_getPermalink(channel="C0CHW", message_ts=posted["ts"])["permalink"]
    assert permalink == f"https://example.slack.com/archives/C0CHW/p{posted['ts'].replace('.', '')}"
    assert client.reactions_add(channel="C0CHW", timestamp=posted["ts"], name="ticket")["ok"]
    assert client.chat_postEphemeral(channel="C0CHW", user="U0CHW1", text="only you")["message_ts"]

    for call, error in [
        (lambda: client.users_info(user="U0NOBODY"), "user_not_found"),
        (lambda: client.conversations_info(channel="C0NONE"), "channel_not_found"),
        (lambda: client.reactions_add(channel="C0CHW", timestamp=posted["ts"], name="ticket"),
         "already_reacted"),
        (lambda: client.chat_update(channel="C0CHW", ts="1.000001", text="x"), "message_not_found"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == error
    assert stand_in.violations == []  # refusals code must handle are not the caller's bugs


def test_views_get_ids_and_hashes_and_triggers_are_single_use(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "New request"},
             "submit": {"type": "plain_text", "text": "Open"}, "callback_id": "desk.intake",
             "blocks": [{"type": "input", "block_id": "title",
                         "label": {"type": "plain_text", "text": "Title"},
                         "element": {"type": "plain_text_input", "action_id": "value"}}]}
    opened = client.views_open(trigger_id="1767600000.1.abc", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "desk.intake"

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)["view"]
    assert updated["id"] == opened["id"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id="1767600000.1.abc", view=modal)

    home = {"type": "home", "blocks": [section("Your queue")]}
    first = client.views_publish(user_id="U0ENG1", view=home)["view"]
    assert client.views_publish(user_id="U0ENG1", view=home)["view"]["id"] == first["id"]
    assert stand_in.violations == []


def test_files_upload_v2_goes_through_the_external_upload_flow(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    result = client.files_upload_v2(channel="C0CHW", content="a,b\n1,2\n", filename="export.csv",
                                    title="Export")

    assert result["file"]["title"] == "Export" and result["file"]["size"] == 8
    assert [call.method for call in stand_in.calls] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert stand_in.violations == []


def test_wait_for_blocks_until_calls_arrive_from_another_thread(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    def post_later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C1", text="late")

    threading.Thread(target=post_later).start()
    assert [call.args["text"] for call in stand_in.wait_for("chat.postMessage", timeout=3)] == ["late"]
    with pytest.raises(AssertionError, match="waited 0.05s for 2 call"):
        stand_in.wait_for("chat.postMessage", count=2, timeout=0.05)


def test_reset_forgets_calls_violations_and_faults_but_keeps_the_workspace(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    stand_in.users["U1"] = {"id": "U1", "team_id": "T1", "name": "a", "real_name": "A", "tz": "Europe/London"}
    refusal(lambda: client.api_call("chat.postMessage", json={"text": "no channel"}))
    stand_in.inject("*", error="fatal_error")

    stand_in.reset()

    assert (stand_in.calls, stand_in.violations, stand_in.pending_faults) == ([], [], [])
    assert client.users_info(user="U1")["ok"]


# --- checks against the method reference ------------------------------------------------------------


def test_an_unknown_argument_is_refused_and_recorded(stand_in: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="hi", colour="red")

    assert refused.value.response["error"] == "invalid_arguments"
    assert refused.value.response["response_metadata"]["messages"] == ["[ERROR] unknown argument `colour`"]
    assert stand_in.violations == ["chat.postMessage: unknown argument `colour`"]


def test_a_missing_required_argument_is_refused_and_recorded(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.api_call("chat.postMessage", json={"text": "where to?"})

    assert stand_in.violations == ["chat.postMessage: missing required argument `channel`"]


def test_unknown_methods_missing_tokens_and_json_to_form_only_methods_are_refused(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    anonymous = WebClient(base_url=stand_in.api_url, retry_handlers=[])
    answers = [
        refusal(lambda: client.api_call("chat.postMesage", json={"channel": "C1"})),
        refusal(lambda: anonymous.api_call("auth.test")),
        refusal(lambda: client.api_call("users.info", json={"user": "U1"})),
    ]
    assert [answer["error"] for answer in answers] == ["unknown_method", "not_authed", "invalid_arguments"]
    assert stand_in.violations == [
        "chat.postMesage: no Web API method `chat.postMesage`",
        "auth.test: no token (Authorization: Bearer header or `token` argument)",
        "users.info: this method does not accept a JSON body; send a form",
    ]


def test_oversize_section_text_is_invalid_blocks(stand_in: SlackStandIn, client: WebClient) -> None:
    blocks = [section("ok"), {"type": "divider"}, section("fine"), section("x" * 3012)]
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)

    assert refused.value.response["error"] == "invalid_blocks"
    assert stand_in.violations == ["chat.postMessage: blocks[3].text.text: 3012 chars > 3000"]


def test_views_and_message_text_are_checked_too(stand_in: SlackStandIn, client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "A title far too long for Slack"},
             "blocks": [section("x")]}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id="1.2.abc", view=modal)
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_postMessage(channel="C1", text="x" * 40_001)
    with pytest.raises(SlackApiError, match="no_text"):
        client.api_call("chat.postMessage", json={"channel": "C1"})

    assert stand_in.violations == [
        "views.open: view.title.text: 30 chars > 24",
        "chat.postMessage: text: 40001 chars > 40000",
        "chat.postMessage: a message needs text, blocks or attachments",
    ]


# --- response_url -----------------------------------------------------------------------------------


def test_response_url_messages_are_recorded_and_checked(stand_in: SlackStandIn) -> None:
    url = stand_in.hooks_url + "commands/T0CHW/123/abc"
    sent = WebhookClient(url).send(text="Opening a request…", response_type="ephemeral")
    oversize = WebhookClient(url).send(text="x", blocks=[{"type": "header", "text": {
        "type": "plain_text", "text": "h" * 151}}])

    assert (sent.status_code, sent.body) == (200, "ok")
    assert (oversize.status_code, oversize.body) == (400, "invalid_blocks")
    call = stand_in.calls_to("response_url")[0]
    assert call.args == {"text": "Opening a request…", "response_type": "ephemeral",
                         "url": "/hooks/commands/T0CHW/123/abc"}
    assert stand_in.violations == ["response_url: blocks[0].text.text: 151 chars > 150"]


# --- finding the reference --------------------------------------------------------------------------


def test_the_reference_is_bundled_unless_an_argument_or_the_environment_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    assert resolve_reference_dir() == BUNDLED
    assert (BUNDLED / "LICENSE.md").read_text().startswith("MIT License")
    (tmp_path / "ref" / "methods").mkdir(parents=True)
    assert resolve_reference_dir(tmp_path / "ref") == (tmp_path / "ref").resolve()
    monkeypatch.setenv(ENV_VARIABLE, str(tmp_path / "ref"))
    assert resolve_reference_dir() == (tmp_path / "ref").resolve()

    monkeypatch.setenv(ENV_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=f"looked for a methods/ directory in: {tmp_path / 'missing'}.*"
                                          f"{ENV_VARIABLE}"):
        SlackStandIn()


def test_history_and_replies_return_what_people_and_the_bot_posted(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    asked = stand_in.add_message(payloads.message("Cash book will not balance", user="U0CHW1",
                                                  user_team="T0CHW", channel="C0CHW"))
    later = stand_in.add_message(payloads.message_event("Another thing", user="U0CHW1", user_team="T0CHW",
                                                        channel="C0CHW"))
    reply = client.chat_postMessage(channel="C0CHW", thread_ts=asked["ts"], text="CHW-1 opened")

    history = client.conversations_history(channel="C0CHW")["messages"]
    assert [message["ts"] for message in history] == [later["ts"], asked["ts"]]  # newest first, no replies
    assert history[1]["reply_count"] == 1
    just_one = client.conversations_history(channel="C0CHW", latest=asked["ts"], inclusive=True, limit=1)
    assert [message["text"] for message in just_one["messages"]] == ["Cash book will not balance"]
    thread = client.conversations_replies(channel="C0CHW", ts=asked["ts"])["messages"]
    assert [message["ts"] for message in thread] == [asked["ts"], reply["ts"]]
    with pytest.raises(SlackApiError, match="cant_update_message"):
        client.chat_update(channel="C0CHW", ts=asked["ts"], text="the bot cannot edit people")
    with pytest.raises(SlackApiError, match="thread_not_found"):
        client.conversations_replies(channel="C0CHW", ts="1.000001")


def test_user_groups_answer_from_the_workspace_and_fail_when_told(stand_in: SlackStandIn, client: WebClient) -> None:
    """desk's roles rest on usergroups.users.list: members as the test set them, Slack's own errors for a
    group that does not exist or a plan without groups, and failures on demand (desk must refuse then)."""
    stand_in.usergroups["S0ENGINEERS"] = ["U0ENG1", "U0ENG2"]
    assert client.usergroups_users_list(usergroup="S0ENGINEERS")["users"] == ["U0ENG1", "U0ENG2"]
    for group, error in [("S0NOSUCH", "no_such_subteam"), ("S0ENGINEERS", "plan_upgrade_required")]:
        if error == "plan_upgrade_required":
            stand_in.inject("usergroups.users.list", error=error)
        with pytest.raises(SlackApiError) as refused:
            client.usergroups_users_list(usergroup=group)
        assert refused.value.response["error"] == error
    stand_in.inject("usergroups.users.list", disconnect=True)
    with pytest.raises(Exception):  # noqa: B017 - a dropped connection, whatever the client calls it
        WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[]).usergroups_users_list(
            usergroup="S0ENGINEERS")
    assert client.usergroups_users_list(usergroup="S0ENGINEERS")["ok"]
    assert stand_in.violations == []
