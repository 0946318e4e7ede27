"""Slash command and interactivity bodies, shaped like `tests/fixtures/slack/` (commands, actions,
views, shortcuts).

Pure functions returning what Slack posts (form fields for a slash command, the `payload` JSON for the
rest) with fresh trigger ids and timestamps. The actor's organisation is `user.team_id` (and `team.id`);
a modal's installation is `view.app_installed_team_id`. A Grid member (`enterprise_id=`) comes with
`team.enterprise_id`/`enterprise_name` and an `enterprise` object, as in `tests/fixtures/slack/`; a slash
command with `enterprise_id`/`enterprise_name` fields. `response_url`s point under `hooks_url` when given,
so the app's `respond()` lands in the stand-in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from desk.sandbox.ids import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    INSTALLED_TEAM_ID,
    VERIFICATION_TOKEN,
    new_id,
    new_trigger_id,
    new_ts,
)

Payload = dict[str, Any]


def new_response_url(team: str, hooks_url: str | None = None, kind: str = "commands") -> str:
    """Where the app's `respond()` goes: under the stand-in's hooks_url when given, else Slack's shape."""
    path = f"{kind}/{team}/{new_id('', 10)}/{uuid.uuid4().hex[:24]}"
    return (hooks_url or "https://hooks.slack.com/") + path


def slash_command(
    text: str,
    *,
    user: str,
    user_team: str,
    channel: str,
    command: str = "/desk",
    team_id: str | None = None,
    channel_name: str = "support",
    user_name: str | None = None,
    response_url: str | None = None,
    hooks_url: str | None = None,
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command (`SlackDriver.send_form` url-encodes them)."""
    grid = {} if enterprise_id is None else {"enterprise_id": enterprise_id, "enterprise_name": enterprise_id}
    return {**grid,
        "token": VERIFICATION_TOKEN,
        "team_id": team_id or user_team,
        "team_domain": (team_id or user_team).lower(),
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url or new_response_url(user_team, hooks_url),
        "trigger_id": trigger_id or new_trigger_id(),
    }


# --- interactivity ------------------------------------------------------------------------------------

def _actor(user: str, user_team: str, enterprise_id: str | None = None) -> tuple[Payload, Payload]:
    name = user.lower()
    team: Payload = {"id": user_team, "domain": user_team.lower()}
    if enterprise_id is not None:
        team.update(enterprise_id=enterprise_id, enterprise_name=enterprise_id)
    return {"id": user, "username": name, "name": name, "team_id": user_team}, team


def _interaction(kind: str, *, user: str, user_team: str, enterprise_id: str | None = None) -> Payload:
    person, team = _actor(user, user_team, enterprise_id)
    enterprise = None if enterprise_id is None else {"id": enterprise_id, "name": enterprise_id}
    return {"type": kind, "user": person, "api_app_id": APP_ID, "token": VERIFICATION_TOKEN, "team": team,
            "enterprise": enterprise, "is_enterprise_install": False}


def block_action(
    action_id: str,
    *,
    value: str | None = None,
    user: str,
    user_team: str,
    channel: str | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    block_id: str = "b",
    view: Mapping[str, Any] | None = None,
    container: Mapping[str, Any] | None = None,
    selected_option: Mapping[str, Any] | None = None,
    selected_user: str | None = None,
    message: Mapping[str, Any] | None = None,
    response_url: str | None = None,
    hooks_url: str | None = None,
    enterprise_id: str | None = None,
) -> Payload:
    """A click on a button (or a choice in a select) in a message (`channel`) or a view (`view`)."""
    action: Payload = {"action_id": action_id, "block_id": block_id, "action_ts": new_ts()}
    if selected_option is not None:
        action.update(type="static_select", selected_option=dict(selected_option))
    elif selected_user is not None:
        action.update(type="users_select", selected_user=selected_user)
    else:
        action.update(type="button", text={"type": "plain_text", "text": "Button", "emoji": True})
        if value is not None:
            action["value"] = value
    payload = _interaction("block_actions", user=user, user_team=user_team, enterprise_id=enterprise_id)
    payload["trigger_id"] = new_trigger_id()
    if view is not None:
        payload["container"] = dict(container or {"type": "view", "view_id": view.get("id")})
        payload["view"] = dict(view)
    elif channel is None:
        raise ValueError("block_action needs a channel (an action in a message) or a view (in a modal)")
    else:
        message_ts = message_ts or (message or {}).get("ts") or new_ts()
        default_container: Payload = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                      "is_ephemeral": False}
        if thread_ts is not None:
            default_container["thread_ts"] = thread_ts
        payload["container"] = dict(container or default_container)
        payload["channel"] = {"id": channel, "name": "support"}
        payload["message"] = dict(message or {"type": "message", "ts": message_ts, "text": "",
                                              "user": BOT_USER_ID})
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url or new_response_url(user_team, hooks_url, kind="actions")
    payload["actions"] = [action]
    return payload


def option(value: str, text: str | None = None) -> Payload:
    """An option object, as a select sends it (`block_action(selected_option=option("P1"))`)."""
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def static_select_value(value: str, text: str | None = None) -> Payload:
    """A static_select's entry in a submitted view's state (`view_submission(values=...)`)."""
    return {"type": "static_select", "selected_option": option(value, text)}


def users_select_value(user_id: str) -> Payload:
    """A users_select's entry in a submitted view's state."""
    return {"type": "users_select", "selected_user": user_id}


def _state_value(value: str | Mapping[str, Any] | None) -> Payload:
    if isinstance(value, Mapping):
        return dict(value)
    return {"type": "plain_text_input", "value": value}


def _input_element(action_id: str, state: Mapping[str, Any]) -> Payload:
    element: Payload = {"type": state["type"], "action_id": action_id}
    if state.get("selected_option") is not None:
        element["options"] = [state["selected_option"]]
    return element


def _modal(callback_id: str, values: Mapping[str, Mapping[str, Any]], *, view_id: str, installed_team: str,
           private_metadata: str | None, base: Mapping[str, Any] | None) -> Payload:
    """The submitted view: `base` (the view the app opened) when given, else one input block per value."""
    blocks = [
        {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": block_id},
         "optional": False, "element": _input_element(action_id, _state_value(value))}
        for block_id, actions in values.items() for action_id, value in actions.items()
    ]
    view: Payload = {
        "id": view_id, "team_id": installed_team, "type": "modal", "blocks": blocks,
        "private_metadata": "", "callback_id": callback_id,
        "hash": f"{new_ts()}.{new_id('', 8)}", "title": {"type": "plain_text", "text": "desk"},
        "clear_on_close": False, "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel"}, "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": None, "root_view_id": view_id, "app_id": APP_ID, "external_id": "",
        "bot_id": BOT_ID,
    }
    if base is not None:
        view.update({key: item for key, item in base.items() if key != "state"})
    view["callback_id"] = callback_id
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    view["app_installed_team_id"] = installed_team
    view["state"] = {"values": {
        block_id: {action_id: _state_value(value) for action_id, value in actions.items()}
        for block_id, actions in values.items()
    }}
    return view


def view_submission(
    callback_id: str,
    *,
    values: Mapping[str, Mapping[str, str | Mapping[str, Any] | None]],
    user: str,
    user_team: str,
    private_metadata: str | None = None,
    view_id: str | None = None,
    installed_team: str = INSTALLED_TEAM_ID,
    view: Mapping[str, Any] | None = None,
    enterprise_id: str | None = None,
) -> Payload:
    """A modal submitted: `values` is block_id -> action_id -> text (or a `selected_*` state value).

    Pass the `view` the app opened (e.g. `stand_in.last("views.open").response["view"]`) to submit that
    modal (its private_metadata too, unless given); otherwise a modal with one input per value is made up.
    The submitter's organisation is `user.team_id` / `team.id`; the installation `view.app_installed_team_id`.
    """
    view_id = view_id or (view or {}).get("id") or new_id("V")
    payload = _interaction("view_submission", user=user, user_team=user_team, enterprise_id=enterprise_id)
    payload["trigger_id"] = new_trigger_id()
    payload["view"] = _modal(callback_id, values, view_id=view_id, installed_team=installed_team,
                             private_metadata=private_metadata, base=view)
    payload["response_urls"] = []
    return payload


def view_closed(
    callback_id: str, *, user: str, user_team: str, private_metadata: str | None = None,
    view_id: str | None = None, installed_team: str = INSTALLED_TEAM_ID,
    view: Mapping[str, Any] | None = None, is_cleared: bool = False,
) -> Payload:
    """A modal dismissed (sent only when the app opened it with `notify_on_close`)."""
    payload = _interaction("view_closed", user=user, user_team=user_team)
    payload["view"] = _modal(callback_id, {}, view_id=view_id or (view or {}).get("id") or new_id("V"),
                             installed_team=installed_team, private_metadata=private_metadata, base=view)
    payload.update(is_cleared=is_cleared, response_urls=[])
    return payload


def message_shortcut(
    callback_id: str, *, user: str, user_team: str, channel: str, message: Mapping[str, Any],
    response_url: str | None = None, hooks_url: str | None = None, enterprise_id: str | None = None,
) -> Payload:
    """The "…" menu on a message: `message` is the message acted on (see `message_event`)."""
    payload = _interaction("message_action", user=user, user_team=user_team, enterprise_id=enterprise_id)
    payload.update(
        action_ts=new_ts(), channel={"id": channel, "name": "support"}, callback_id=callback_id,
        trigger_id=new_trigger_id(), message_ts=message["ts"], message=dict(message),
        response_url=response_url or new_response_url(user_team, hooks_url, kind="app"),
    )
    return payload


def global_shortcut(callback_id: str, *, user: str, user_team: str, enterprise_id: str | None = None) -> Payload:
    """A shortcut from the composer or search: no channel, no message, no response_url."""
    payload = _interaction("shortcut", user=user, user_team=user_team, enterprise_id=enterprise_id)
    payload.update(action_ts=new_ts(), callback_id=callback_id, trigger_id=new_trigger_id())
    return payload


def form_body(fields: Mapping[str, str]) -> str:
    """url-encode form fields the way Slack does (`+` for spaces)."""
    return urlencode(dict(fields))


def interaction_body(payload: Mapping[str, Any]) -> str:
    """Interactivity arrives as a form with one field, `payload`, holding the JSON."""
    return form_body({"payload": json.dumps(payload, separators=(",", ":"))})
