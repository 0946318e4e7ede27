"""Posting what the outbox holds for saved replies and state reactions (the notifier sends them here).

A saved reply is posted in the council's thread from its `replied` event (the words the engineer sent);
a state reaction is added to the ticket's card and to the council's message, wherever each exists.
Slack's `already_reacted` means the reaction is there: success, not a failure to retry. Any other refusal
(`missing_scope` on an app installed before `reactions:write` was in the manifest, `not_in_channel`, a
deleted message) is logged and that place skipped: a reaction only shows state at a glance, so it is not
worth an alert in the triage channel; a 429 or a dropped connection is retried like any post.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.observability import logs
from desk.services import saved_replies, state_reactions
from desk.services.read_models import summarize
from desk.slack.blocks import saved_replies as reply_blocks
from desk.slack.context import display_name
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")

KINDS = frozenset({saved_replies.OUTBOX_KIND, state_reactions.OUTBOX_KIND})


def deliver(client: WebClient, deps: Deps, kind: str, payload: dict[str, Any]) -> str | None:
    with logs.bind(ticket=payload["ref"]):
        if kind == saved_replies.OUTBOX_KIND:
            return _saved_reply(client, deps, payload)
        if kind == state_reactions.OUTBOX_KIND:
            return _reaction(client, deps, payload)
    raise ValueError(f"reply_posts does not deliver {kind!r}")


def _saved_reply(client: WebClient, deps: Deps, payload: dict[str, Any]) -> str | None:
    with unit_of_work(deps.engine) as session:
        sent = saved_replies.sent_text(session, payload)
        t = summarize(session, queries.get_ticket(session, payload["ref"]), deps.clock.now())
    if sent is None or not (t.thread_channel and t.thread_ts):
        log.info("saved reply: nothing to post (words redacted, or no council thread)")
        return None
    text, engineer = sent
    name = display_name(client, engineer, deps.names) if engineer else None
    message = reply_blocks.posted_reply(t, text, name if name != engineer else None)
    posted = client.chat_postMessage(channel=t.thread_channel, thread_ts=t.thread_ts, **message.post_kwargs())
    return str(posted["ts"])


def _reaction(client: WebClient, deps: Deps, payload: dict[str, Any]) -> str | None:
    name = str(state_reactions.StateReaction(payload["name"]))
    with unit_of_work(deps.engine) as session:
        ticket = queries.get_ticket(session, payload["ref"])
        places = [(ticket.card_channel, ticket.card_ts), (ticket.slack_channel, ticket.slack_ts)]
    first = None
    for channel, ts in places:
        if not (channel and ts):
            continue
        try:
            client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as err:
            code = str(err.response.get("error") or "")
            if err.response.status_code == 429 or code == "ratelimited":
                raise  # the dispatcher waits Retry-After and tries again
            if code != "already_reacted":  # a reaction is a glance, not a message: no alert for it
                log.warning(":%s: not added in %s: %s%s", name, channel, code,
                            " (the Slack app needs the reactions:write scope)" if code == "missing_scope" else "")
                continue
        first = first or ts
    return first
