"""Clicks, modal submissions and App Home, sent as Slack sends them (see `console_actions`).

A click in a message carries the message and a response_url; a click in a modal or on App Home carries
the view. A submission carries `view.state.values` typed by the view's inputs, and desk's answer to it
may hold `response_action` (errors shown on the form, or a view to update or push), which Slack applies.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from desk.sandbox import console_forms, console_reads, events, interactions
from desk.sandbox.console_errors import ActionError
from desk.sandbox.ids import new_id, new_ts, wall_time

if TYPE_CHECKING:
    from desk.sandbox.console_actions import Console


def _error(message: str, status: int = 400) -> Exception:
    return ActionError(message, status)


def click(console: Console, body: Mapping[str, Any]) -> dict:
    person = console.person(body.get("as"))
    action_id, value = str(body.get("action_id") or ""), body.get("value")
    value = None if value is None else str(value)
    if not action_id:
        raise _error("`action_id`: which button or choice?")
    if body.get("view_id"):
        view = console_reads.view(console.slack, str(body["view_id"]))
        if view is None:
            raise _error(f"`view_id`: no view {body['view_id']}", 404)
        try:
            block_id, element = console_forms.find(view.get("blocks"), action_id, value)
            action = console_forms.action(element, block_id, value)
        except console_forms.FormError as err:
            raise _error(str(err)) from None
        payload = interactions.block_action(action_id, user=person.id, user_team=person.team, view=view)
        payload["actions"] = [{**action, "action_ts": new_ts()}]
        console._send("interaction", console._as_person(payload, person))
        console.settle()
        opened = console._opened(payload["trigger_id"])
        return {"view": opened or console_reads.view(console.slack, view["id"])}
    channel = console.conversation(person, body.get("channel"))
    found = console_reads.find_message(console.slack, console.population, channel, str(body.get("ts")), person.id)
    if found is None:
        raise _error(f"`ts`: no message {body.get('ts')} in {channel}", 404)
    message, ephemeral = found
    try:
        block_id, element = console_forms.find(message.get("blocks"), action_id, value)
        action = console_forms.action(element, block_id, value)
    except console_forms.FormError as err:
        raise _error(str(err)) from None
    message.pop("ephemeral_to", None)
    container = {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                 "is_ephemeral": ephemeral}
    if message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    payload = interactions.block_action(action_id, user=person.id, user_team=person.team, channel=channel,
                                        message_ts=message["ts"], message=message, container=container,
                                        hooks_url=console.slack.hooks_url)
    payload["actions"] = [{**action, "action_ts": new_ts()}]
    payload["channel"]["name"] = console._channel_name(channel)
    console._route(payload["response_url"], channel=channel, user=person.id, message_ts=message["ts"],
                   ephemeral=ephemeral, thread_ts=message.get("thread_ts"))
    console._send("interaction", console._as_person(payload, person))
    console.settle()
    opened = console._opened(payload["trigger_id"])
    return {"view": opened} if opened else {}


def submit(console: Console, body: Mapping[str, Any]) -> dict:
    person = console.person(body.get("as"))
    view = console_reads.view(console.slack, str(body.get("view_id") or ""))
    if view is None or view.get("type") != "modal":
        raise _error(f"`view_id`: no modal {body.get('view_id')!r} is open", 404)
    try:
        state = console_forms.state_values(view, body.get("values") or {})
    except console_forms.FormError as err:
        raise _error(str(err)) from None
    payload = interactions.view_submission(str(view.get("callback_id") or ""), values=state, user=person.id,
                                           user_team=person.team, view=view,
                                           installed_team=console.population.support_team)
    answered = console._send("interaction", console._as_person(payload, person))
    console.settle()
    reply = _response_action(answered.text)
    kind = reply.get("response_action")
    if kind == "errors":
        return {"errors": reply.get("errors") or {}}
    if kind in ("update", "push"):
        return {"view": _store(console, reply.get("view") or {}, view if kind == "update" else None)}
    if kind == "clear":
        return {"clear": True}  # every view of the modal closes, not only this one
    opened = console._opened(payload["trigger_id"])
    return {"view": opened} if opened else {}


def _response_action(text: str) -> dict:
    try:
        decoded = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _store(console: Console, view: dict, replaces: dict | None) -> dict:
    """A view desk answered with (`response_action: update/push`): Slack keeps it as the open modal."""
    view_id = replaces["id"] if replaces else new_id("V")
    stored = {"id": view_id, "team_id": console.population.support_team, "private_metadata": "",
              "callback_id": "", "state": {"values": {}}, **copy.deepcopy(view),
              "hash": f"{int(wall_time())}.{new_id('', 4)}"}
    with console.slack.lock:
        console.slack.workspace.views[view_id] = stored
    return copy.deepcopy(stored)


def home(console: Console, body: Mapping[str, Any]) -> dict:
    """Open App Home: desk hears `app_home_opened` (with the view it last published) and publishes."""
    person = console.person(body.get("as"))
    previous = console_reads.home_view(console.slack, person.id)
    inner: dict[str, Any] = {"type": "app_home_opened", "user": person.id, "channel": "D" + person.id[1:],
                             "tab": "home", "event_ts": new_ts()}
    if previous is not None:
        inner["view"] = previous
    console._send("event", events.event(inner, team_id=person.team,
                                        installed_team=console.population.support_team,
                                        enterprise_id=person.enterprise_id, shared_channel=False))
    console.settle()
    return {"view": console_reads.home_view(console.slack, person.id)}
