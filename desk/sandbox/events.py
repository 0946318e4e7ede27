"""Events API bodies as Slack delivers them, shaped like `tests/fixtures/slack/event_*.json`.

Pure functions returning the `event_callback` envelope (or, `message_event`, the inner event), with fresh
`event_id`s and `ts`s, so a test can tweak a body before `SlackDriver.send_event` signs it. They keep the
traps real Slack sets: in a Slack Connect channel the top-level `team_id` is the *source* side and the
installation is `authorizations[0]`; the author's organisation is `event.user_team` / `event.team`; a
reaction event names no team at all; message `text` arrives in Slack's wire form (`&lt;`, `<@U…>`) while
the rich_text blocks carry it decoded.

Enterprise Grid (`enterprise_id=`, the author's organisation) comes in the two shapes Slack sends into a
Slack Connect channel (see Bolt's tests of `extract_actor_enterprise_id`/`extract_actor_team_id`):
`grid_shape="workspace"`, the member's workspace in `event.team` with no `user_team`, the organisation only
in the envelope (`team_id`/`enterprise_id` the author's side, `context_team_id`/`context_enterprise_id`
the installation's); and `grid_shape="organisation"`, the organisation in `event.user_team` /
`source_team` / `user_profile.team`, `event.team` and the envelope the installation's side.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping
from typing import Any

from desk.sandbox.ids import APP_ID, BOT_USER_ID, INSTALLED_TEAM_ID, VERIFICATION_TOKEN, new_id, new_ts

Payload = dict[str, Any]
GRID_SHAPES = ("workspace", "organisation")


def event(
    inner: Mapping[str, Any],
    *,
    team_id: str,
    installed_team: str = INSTALLED_TEAM_ID,
    enterprise_id: str | None = None,
    event_id: str | None = None,
    shared_channel: bool | None = None,
    context_team_id: str | None = None,
    context_enterprise_id: str | None = None,
) -> Payload:
    """The `event_callback` envelope around one event, as Slack delivers it to the Events API URL.

    `shared_channel` (`is_ext_shared_channel`) describes the channel, not the author: it defaults to "the
    author is from another organisation", so pass True for support staff posting in a council's channel.
    """
    event_ts = str(inner.get("event_ts") or inner.get("ts") or new_ts())
    body: Payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": dict(inner),
        "type": "event_callback",
        "event_id": event_id or new_id("Ev"),
        "event_time": int(float(event_ts)),
        "authorizations": [{
            "enterprise_id": None, "team_id": installed_team, "user_id": BOT_USER_ID, "is_bot": True,
            "is_enterprise_install": False,
        }],
        "is_ext_shared_channel": team_id != installed_team if shared_channel is None else shared_channel,
        "event_context": "4-" + new_id("ctx", 12),
    }
    if enterprise_id is not None:
        body["enterprise_id"] = enterprise_id
    if context_team_id is not None:
        body.update(context_team_id=context_team_id, context_enterprise_id=context_enterprise_id)
    return body


def _envelope_of_author(inner: Payload, *, user_team: str, enterprise_id: str | None, grid_shape: str,
                        installed_team: str) -> dict[str, Any]:
    """The envelope's team fields for an author in `user_team` (in Grid organisation `enterprise_id`),
    reshaping `inner`'s team fields for the Grid shape asked for."""
    if enterprise_id is None:
        return {"team_id": user_team}
    if grid_shape == "workspace":
        for key in ("user_team", "source_team"):
            inner.pop(key, None)
        if "team" in inner or inner.get("type") in ("message", "app_mention"):
            inner["team"] = user_team
        return {"team_id": user_team, "enterprise_id": enterprise_id, "context_team_id": installed_team,
                "context_enterprise_id": None}
    if grid_shape == "organisation":
        if inner.get("type") in ("message", "app_mention"):
            inner.update(team=installed_team, user_team=enterprise_id, source_team=enterprise_id,
                         user_profile={"team": enterprise_id})
        return {"team_id": installed_team}
    raise ValueError(f"grid_shape is one of {GRID_SHAPES}, not {grid_shape!r}")


def rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack attaches to a typed message: mentions, channels and links as elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in re.finditer(r"<([@#!]?)([^>|]+)(?:\|([^>]*))?>", text):
        if match.start() > position:
            elements.append({"type": "text", "text": html.unescape(text[position:match.start()])})
        sigil, target, label = match.groups()
        if sigil == "@":
            elements.append({"type": "user", "user_id": target})
        elif sigil == "#":
            elements.append({"type": "channel", "channel_id": target})
        elif sigil == "!" and target.startswith("subteam^"):
            elements.append({"type": "usergroup", "usergroup_id": target.removeprefix("subteam^")})
        elif sigil == "!":
            elements.append({"type": "broadcast", "range": target})
        else:
            elements.append({"type": "link", "url": target, **({"text": label} if label else {})})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": html.unescape(text[position:])})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": new_id("", 4), "elements": [section]}]


def message_event(
    text: str,
    *,
    user: str | None,
    user_team: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
    channel_type: str = "channel",
    **extra: Any,
) -> Payload:
    """The inner `message` event (also what a message shortcut or block action carries as `message`)."""
    ts = ts or new_ts()
    inner: Payload = {"type": "message", "text": text}
    if subtype is not None:
        inner["subtype"] = subtype
    if bot_id is None:
        inner["client_msg_id"] = str(uuid.uuid4())
    else:
        inner["bot_id"] = bot_id
    if user is not None:
        inner["user"] = user
    inner.update(ts=ts, team=user_team, user_team=user_team, source_team=user_team, blocks=rich_text(text),
                 channel=channel, event_ts=ts, channel_type=channel_type)
    if thread_ts is not None:
        inner["thread_ts"] = thread_ts
    if files is not None:
        inner.update(files=files, upload=False, display_as_bot=False)
    inner.update(extra)
    return inner


def message(
    text: str,
    *,
    user: str | None,
    user_team: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
    installed_team: str = INSTALLED_TEAM_ID,
    event_id: str | None = None,
    shared_channel: bool | None = None,
    enterprise_id: str | None = None,
    grid_shape: str = "workspace",
    **extra: Any,
) -> Payload:
    """A message posted by a person (or, with `bot_id`, by a bot), wrapped for the Events API; from a
    Grid organisation with `enterprise_id` (in `grid_shape`, see the module's docstring)."""
    inner = message_event(text, user=user, user_team=user_team, channel=channel, ts=ts, thread_ts=thread_ts,
                          subtype=subtype, bot_id=bot_id, files=files, **extra)
    envelope = _envelope_of_author(inner, user_team=user_team, enterprise_id=enterprise_id,
                                   grid_shape=grid_shape, installed_team=installed_team)
    return event(inner, installed_team=installed_team, event_id=event_id, shared_channel=shared_channel,
                 **envelope)


def message_changed(
    original: Mapping[str, Any],
    text: str,
    *,
    editor: str | None = None,
    installed_team: str = INSTALLED_TEAM_ID,
    event_id: str | None = None,
    shared_channel: bool | None = None,
) -> Payload:
    """A person edited `original` (a `message_event`, or a whole `message` body) to say `text`.

    As Slack sends it: a hidden `message` event of subtype `message_changed` with its own `ts`, the message
    as it is now under `message` (same `ts` as before, an `edited` stamp) and as it was under
    `previous_message`. The channel is on the outer event only. Slack sends the same subtype when only a
    thread's reply count or an unfurl changed: pass the original's own text to build one of those.
    """
    before = dict(original.get("event", original))
    channel, team = before["channel"], before.get("user_team") or before.get("team")
    now = new_ts()
    after = {key: value for key, value in before.items() if key not in ("channel", "event_ts", "channel_type")}
    after.update(text=text, blocks=rich_text(text), edited={"user": editor or before.get("user"), "ts": now})
    previous = {key: value for key, value in before.items() if key not in ("channel", "event_ts", "channel_type")}
    inner: Payload = {"type": "message", "subtype": "message_changed", "hidden": True, "message": after,
                      "channel": channel, "previous_message": previous, "event_ts": now, "ts": now,
                      "channel_type": before.get("channel_type", "channel")}
    return event(inner, team_id=str(team), installed_team=installed_team, event_id=event_id,
                 shared_channel=shared_channel)


def message_deleted(
    original: Mapping[str, Any],
    *,
    installed_team: str = INSTALLED_TEAM_ID,
    event_id: str | None = None,
    shared_channel: bool | None = None,
) -> Payload:
    """`original` was deleted: a hidden `message_deleted` event naming it by `deleted_ts`, with the message
    as it was under `previous_message` (and no word of who deleted it)."""
    before = dict(original.get("event", original))
    channel, team = before["channel"], before.get("user_team") or before.get("team")
    now = new_ts()
    previous = {key: value for key, value in before.items() if key not in ("channel", "event_ts", "channel_type")}
    inner: Payload = {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": channel,
                      "deleted_ts": before["ts"], "previous_message": previous, "event_ts": now, "ts": now,
                      "channel_type": before.get("channel_type", "channel")}
    return event(inner, team_id=str(team), installed_team=installed_team, event_id=event_id,
                 shared_channel=shared_channel)


def app_mention(
    text: str,
    *,
    user: str,
    user_team: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    installed_team: str = INSTALLED_TEAM_ID,
    event_id: str | None = None,
    shared_channel: bool | None = None,
) -> Payload:
    """An @-mention of the bot; the mention is prepended when the text does not already contain it."""
    mention = f"<@{BOT_USER_ID}>"
    text = text if mention in text else f"{mention} {text}"
    inner = message_event(text, user=user, user_team=user_team, channel=channel, ts=ts, thread_ts=thread_ts)
    inner["type"] = "app_mention"
    inner.pop("channel_type")
    return event(inner, team_id=user_team, installed_team=installed_team, event_id=event_id,
                 shared_channel=shared_channel)


def reaction_added(
    reaction: str,
    *,
    user: str,
    user_team: str,
    channel: str,
    item_ts: str,
    item_user: str,
    installed_team: str = INSTALLED_TEAM_ID,
    event_id: str | None = None,
    shared_channel: bool | None = None,
    enterprise_id: str | None = None,
) -> Payload:
    """reaction_added names no team: the reactor's organisation is only in the envelope (or users.info);
    from a Grid organisation, the envelope carries it beside the installation's `context_*` pair."""
    inner = {
        "type": "reaction_added", "user": user, "reaction": reaction, "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": item_ts}, "event_ts": new_ts(),
    }
    envelope = _envelope_of_author(inner, user_team=user_team, enterprise_id=enterprise_id,
                                   grid_shape="workspace", installed_team=installed_team)
    return event(inner, installed_team=installed_team, event_id=event_id, shared_channel=shared_channel,
                 **envelope)


def app_home_opened(
    *, user: str, user_team: str, tab: str = "home", view: Mapping[str, Any] | None = None,
    installed_team: str = INSTALLED_TEAM_ID, event_id: str | None = None, enterprise_id: str | None = None,
) -> Payload:
    """Someone opened the app's Home tab (`view`: the one published for them before, if any). The event
    names no team; a Grid member's organisation is in the envelope (`enterprise_id`)."""
    inner: Payload = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": tab,
                      "event_ts": new_ts()}
    if view is not None:
        inner["view"] = dict(view)
    return event(inner, team_id=user_team, installed_team=installed_team, event_id=event_id,
                 shared_channel=False, enterprise_id=enterprise_id)


def member_joined_channel(
    *, user: str, user_team: str, channel: str, inviter: str | None = None,
    installed_team: str = INSTALLED_TEAM_ID, event_id: str | None = None, shared_channel: bool | None = None,
) -> Payload:
    """Someone joined a channel the bot is in (`channel_type` "C" public, "G" private)."""
    inner: Payload = {"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C",
                      "team": user_team, "event_ts": new_ts()}
    if inviter is not None:
        inner["inviter"] = inviter
    return event(inner, team_id=user_team, installed_team=installed_team, event_id=event_id,
                 shared_channel=shared_channel)


def url_verification(challenge: str) -> Payload:
    """The handshake Slack sends when the Events API Request URL is saved."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
