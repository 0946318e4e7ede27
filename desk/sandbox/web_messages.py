"""Messages: chat.*, reactions.add, and reading them back with conversations.history / replies.

The bot's messages are stored as it posts them; people's messages are whatever the test adds to
`SlackStandIn.messages` (or via `add_message`), so a listener that fetches "the message that was reacted
to" finds it the way it would in Slack: top-level messages in history, a thread in replies.
"""

from __future__ import annotations

import copy
from typing import Any

from desk.sandbox.ids import APP_ID, new_id, new_ts, wall_time
from desk.sandbox.web_directory import page
from desk.sandbox.workspace import Answer, Args, Handler, SlackError, Workspace


def ts_key(ts: str) -> tuple[int, int]:
    """Order Slack timestamps numerically ("9.5" before "10.000001")."""
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds or 0), int((fraction + "000000")[:6])


def truthy(value: object) -> bool:
    """Booleans arrive as "1"/"0" from slack_sdk's forms, "true" from hand-written ones, true in JSON."""
    return value in (True, 1, "1", "true", "True")


def bot_message(workspace: Workspace, args: Args, ts: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message", "user": workspace.bot_user_id, "bot_id": workspace.bot_id, "app_id": APP_ID,
        "team": workspace.team_id, "ts": ts, "text": args.get("text", ""),
    }
    for key in ("blocks", "thread_ts", "metadata", "attachments"):
        if args.get(key) is not None:
            message[key] = args[key]
    return message


def chat_post_message(workspace: Workspace, args: Args) -> Answer:
    channel = str(args["channel"])
    if channel[:1] in ("U", "W"):  # posting to a user id opens the DM with them
        channel = "D" + channel[1:]
    ts = new_ts()
    message = bot_message(workspace, args, ts)
    workspace.messages[(channel, ts)] = message
    parent = workspace.messages.get((channel, str(args.get("thread_ts"))))
    if parent is not None and parent is not message:
        parent.update(thread_ts=parent["ts"], reply_count=parent.get("reply_count", 0) + 1, latest_reply=ts)
    return {"channel": channel, "ts": ts, "message": copy.deepcopy(message)}


def chat_update(workspace: Workspace, args: Args) -> Answer:
    key = (str(args["channel"]), str(args["ts"]))
    message = workspace.messages.get(key)
    if message is None:
        raise SlackError("message_not_found")
    if message.get("bot_id") is None and message.get("user") not in (None, workspace.bot_user_id):
        raise SlackError("cant_update_message", "a person's message cannot be updated by the bot")
    for field in ("text", "blocks", "metadata", "attachments"):
        if field in args:
            message[field] = args[field]
    message["edited"] = {"user": workspace.bot_user_id, "ts": new_ts()}
    return {"channel": key[0], "ts": key[1], "text": message.get("text", ""),
            "message": copy.deepcopy(message)}


def chat_delete(workspace: Workspace, args: Args) -> Answer:
    if workspace.messages.pop((str(args["channel"]), str(args["ts"])), None) is None:
        raise SlackError("message_not_found")
    return {"channel": args["channel"], "ts": args["ts"]}


def chat_post_ephemeral(workspace: Workspace, args: Args) -> Answer:
    """Seen by one person only, never in history; kept (apart) so a console can show it to them."""
    channel, ts = str(args["channel"]), new_ts()
    message = {**bot_message(workspace, args, ts), "ephemeral_to": str(args["user"])}
    workspace.ephemeral[(channel, ts)] = message
    return {"message_ts": ts}


def chat_schedule_message(workspace: Workspace, args: Args) -> Answer:
    post_at = int(args["post_at"])
    if post_at <= wall_time():
        raise SlackError("time_in_past")
    return {"channel": args["channel"], "scheduled_message_id": new_id("Q"), "post_at": post_at,
            "message": bot_message(workspace, args, new_ts())}


def chat_get_permalink(workspace: Workspace, args: Args) -> Answer:
    channel, ts = str(args["channel"]), str(args["message_ts"])
    permalink = f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    thread_ts = workspace.messages.get((channel, ts), {}).get("thread_ts")
    if thread_ts and thread_ts != ts:
        permalink += f"?thread_ts={thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": permalink}


def reactions_add(workspace: Workspace, args: Args) -> Answer:
    name = str(args["name"])
    if ":" in name or not name:
        raise SlackError("invalid_name", "name is the emoji without colons, e.g. `ticket`")
    key = (str(args["channel"]), str(args["timestamp"]), name)
    if key in workspace.reactions:
        raise SlackError("already_reacted")
    workspace.reactions.add(key)
    return {}


def _within(ts: str, args: Args) -> bool:
    """`oldest` < ts < `latest` (both ends included with `inclusive`)."""
    inclusive = truthy(args.get("inclusive"))
    oldest, latest = ts_key(args.get("oldest") or "0"), ts_key(args.get("latest") or "9999999999")
    key = ts_key(ts)
    return (oldest <= key <= latest) if inclusive else (oldest < key < latest)


def conversations_history(workspace: Workspace, args: Args) -> Answer:
    """Top-level messages (and broadcast replies) of a channel, newest first."""
    channel = str(args["channel"])
    found = [
        copy.deepcopy(message) for (where, ts), message in workspace.messages.items()
        if where == channel and _within(ts, args)
        and (message.get("thread_ts") in (None, ts) or message.get("subtype") == "thread_broadcast")
    ]
    found.sort(key=lambda message: ts_key(message["ts"]), reverse=True)
    messages, next_cursor = page(found, args)
    return {"messages": messages, "has_more": bool(next_cursor), "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor}}


def conversations_replies(workspace: Workspace, args: Args) -> Answer:
    """A thread, parent first then replies oldest first; a message with no replies is a thread of one."""
    channel, thread_ts = str(args["channel"]), str(args["ts"])
    if (channel, thread_ts) not in workspace.messages:
        raise SlackError("thread_not_found")
    found = [
        copy.deepcopy(message) for (where, ts), message in workspace.messages.items()
        if where == channel and (ts == thread_ts or message.get("thread_ts") == thread_ts)
        and (ts == thread_ts or _within(ts, args))
    ]
    found.sort(key=lambda message: ts_key(message["ts"]))
    messages, next_cursor = page(found, args, default_limit=1000)
    return {"messages": messages, "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor}}


ANSWERS: dict[str, Handler] = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.scheduleMessage": chat_schedule_message,
    "chat.getPermalink": chat_get_permalink,
    "reactions.add": reactions_add,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}
