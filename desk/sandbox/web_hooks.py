"""response_url deliveries, placed where Slack would show them.

A slash command or a button carries a `response_url`; what the app posts there is ephemeral to the person
who acted unless it says `response_type: in_channel`, and with `replace_original` / `delete_original` it
changes the message the button was on. Slack knows where each URL leads; here whoever issued the URL (the
console) says so in `Workspace.hook_routes`. A URL nobody routed is only recorded, as before.
"""

from __future__ import annotations

from typing import Any

from desk.sandbox.ids import new_ts
from desk.sandbox.web_messages import bot_message
from desk.sandbox.workspace import Workspace


def deliver(workspace: Workspace, path: str, body: Any) -> None:
    route = workspace.hook_routes.get(path)
    if route is None or not isinstance(body, dict):
        return
    channel, user = route["channel"], route["user"]
    original = route.get("message_ts")
    store = workspace.ephemeral if route.get("ephemeral") else workspace.messages
    if body.get("delete_original") and original:
        store.pop((channel, original), None)
        return
    if body.get("replace_original") and original and (channel, original) in store:
        message = store[(channel, original)]
        for field in ("text", "blocks"):
            if field in body:
                message[field] = body[field]
        return
    message = bot_message(workspace, body, new_ts())
    if route.get("thread_ts") and "thread_ts" not in body:
        message["thread_ts"] = route["thread_ts"]
    if body.get("response_type") == "in_channel":
        workspace.messages[(channel, message["ts"])] = message
    else:
        message = {**message, "ephemeral_to": user}
        workspace.ephemeral[(channel, message["ts"])] = message
    route.setdefault("delivered", []).append(message)
