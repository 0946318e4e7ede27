"""Telling a council in its ticket's thread what support changed elsewhere (the outbox's `council_notice`).

The dispatcher (worker) sends these; a listener that has just made such a change sends its ticket's
notices at once (`send_now`), through the same dispatcher, so a notice is posted once whoever gets to it
first, and one that Slack does not take stays in the outbox for the worker to retry.

Engineers are named as people see them in Slack (users.info: display name, else real name), looked up
once and cached: a council reads "Sam Jones is looking after CHW-4", not a user id or a mention that
would notify the engineer from the council's channel.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import council_notices
from desk.slack.blocks import notices
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")

NAME_CACHE_SECONDS = 3600


def deliver_notice(client: WebClient, deps: Deps, payload: dict[str, Any]) -> str | None:
    """Post one notice in the ticket's council thread; None (nothing to post) when it has no thread."""
    now = deps.clock.now()
    with unit_of_work(deps.engine) as session:
        notice = council_notices.read(session, payload["ref"], int(payload["seq"]), now)
    if notice is None:
        return None
    t = notice.ticket
    if not (t.thread_channel and t.thread_ts):
        log.info("%s: no council thread to tell (%s)", t.ref, notice.kind)
        return None
    name = display_name(client, deps, notice.assignee) if notice.assignee else None
    message = notices.council_notice(notice, now, assignee_name=name)
    posted = client.chat_postMessage(channel=t.thread_channel, thread_ts=t.thread_ts, **message.post_kwargs())
    return str(posted["ts"])


def display_name(client: WebClient, deps: Deps, user: str) -> str | None:
    """How Slack shows a person (display name, else real name), cached; None when Slack cannot say."""
    cached = deps.names.get(user)
    if cached and time.monotonic() - cached[1] < NAME_CACHE_SECONDS:
        return cached[0]
    try:
        found = client.users_info(user=user)["user"]
    except SlackApiError as err:
        log.info("users.info %s: %s", user, err.response.get("error"))
        return None
    profile = found.get("profile") or {}
    name = (profile.get("display_name") or profile.get("real_name") or found.get("real_name")
            or found.get("name"))
    if name:
        deps.names[user] = (name, time.monotonic())
    return name or None


def ticket_id(deps: Deps, ref: str) -> int | None:
    with unit_of_work(deps.engine) as session:
        ticket = queries.find_ticket(session, ref)
        return ticket.id if ticket else None
