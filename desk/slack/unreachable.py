"""Answers to Slack while the database is known to be unreachable, the same over HTTP and Socket Mode.

Each kind of request is answered at once, without the database, so that nothing is lost:

- an event is not taken (HTTP: 503; Socket Mode: not acked), so Slack delivers it again later, with the
  same `event_id`;
- a slash command gets an ephemeral "desk cannot reach its database, so nothing was saved";
- a modal submission gets that error on the form, which stays open with what was typed;
- a button or shortcut is acked and the person is told, through `response_url` or a small modal
  (`tell_unreachable`, after the ack).

Anything else (url_verification, a link button, a closed modal) needs no database: None, and the request
goes on as usual.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from desk.slack.context import UNREACHABLE_TEXT
from desk.slack.ids import Action

log = logging.getLogger("desk.slack")

NOT_TAKEN = {"ok": False, "error": "database_unavailable", "detail": "desk cannot reach its database: deliver this again"}


@dataclass(frozen=True)
class Unreachable:
    """The answer: `taken` (acked, with `answer` when it carries one) or not (Slack delivers it again), and
    the interaction whose person is to be told after the ack."""

    taken: bool
    answer: dict | None = None
    tell: dict | None = None


def without_database(kind: str, document: dict, problem: str) -> Unreachable | None:
    """`kind`: "event" (an Events API body), "command" (a slash command's fields) or "interaction" (the
    payload of a button, shortcut or modal); None when the request needs no database."""
    if kind == "event":
        if document.get("type") != "event_callback":
            return None
        log.warning("database unreachable (%s): event not taken, so that Slack delivers it again", problem)
        return Unreachable(taken=False)
    if kind == "command":
        log.warning("database unreachable (%s): %s answered that nothing was saved", problem, document.get("command"))
        return Unreachable(taken=True, answer={"response_type": "ephemeral", "text": UNREACHABLE_TEXT})
    payload_type = document.get("type")
    if payload_type == "view_submission":
        blocks = (document.get("view") or {}).get("blocks")
        block = next((b["block_id"] for b in (blocks if isinstance(blocks, list) else [])
                      if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("block_id"), str)),
                     None)
        log.warning("database unreachable (%s): modal submission refused on the form", problem)
        if block is None:
            return Unreachable(taken=False)
        return Unreachable(taken=True, answer={"response_action": "errors", "errors": {block: UNREACHABLE_TEXT}})
    if payload_type not in ("block_actions", "shortcut", "message_action"):
        return None  # view_closed and the like: nothing to save
    actions = document.get("actions") or [{}]
    if payload_type == "block_actions" and isinstance(actions[0], dict) \
            and actions[0].get("action_id") == Action.OPEN_TICKET:
        return None  # a link button: Slack opens the link, desk does nothing
    log.warning("database unreachable (%s): %s acked, the person told nothing was saved", problem, payload_type)
    return Unreachable(taken=True, tell=document)


def tell_unreachable(client: WebClient, payload: dict) -> None:
    """Tell the person who clicked: in the conversation (response_url) if there is one, else in a modal."""
    try:
        if payload.get("response_url"):
            WebhookClient(payload["response_url"], timeout=5).send(
                text=UNREACHABLE_TEXT, response_type="ephemeral", replace_original=False)
        elif payload.get("trigger_id"):
            client.views_open(trigger_id=payload["trigger_id"], view={
                "type": "modal", "title": {"type": "plain_text", "text": "desk"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": [{"type": "section", "text": {"type": "plain_text", "text": UNREACHABLE_TEXT}}]})
    except Exception as err:  # Slack unreachable too, or the trigger expired: the log line is all there is
        log.warning("could not tell the person the database is unreachable: %s", err)
