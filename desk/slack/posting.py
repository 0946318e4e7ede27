"""Posting about tickets: the council thread, the confirmation, the triage card and its updates.

Each function re-reads the ticket, renders it with a pure builder, calls the Web API, and records the
`ts` Slack returns so replies and card updates find their way back. Each runs under its ticket's ref, so
every log line written while posting names the ticket.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.observability import logs
from desk.services import intake
from desk.services.read_models import TicketSummary, summarize
from desk.services.tenancy import directory
from desk.slack.blocks import cards, replies
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")


def summary(deps: Deps, ref: str) -> TicketSummary:
    with unit_of_work(deps.engine) as session:
        return summarize(session, queries.get_ticket(session, ref), deps.clock.now())


def announce(client: WebClient, deps: Deps, ref: str, *, opens_at: datetime | None) -> None:
    """A new ticket: make sure it has a council thread, confirm in it, and put a card in triage."""
    with logs.bind(ticket=ref):
        _announce(client, deps, ref, opens_at=opens_at)


def _announce(client: WebClient, deps: Deps, ref: str, *, opens_at: datetime | None) -> None:
    with unit_of_work(deps.engine) as session:
        rendered_version = intake.ticket_version(session, ref)
    t = summary(deps, ref)
    with unit_of_work(deps.engine) as session:
        council = queries.get_council(session, t.council_id)
        triage = directory(session).triage_channel
    channels = council.slack.get("channels", [])
    thread = (t.thread_channel, t.thread_ts) if t.thread_ts else None
    if thread is None and channels:
        root = replies.ticket_opened(t)
        posted = client.chat_postMessage(channel=channels[0], text=root.text, blocks=root.blocks,
                                         unfurl_links=False, unfurl_media=False)
        thread = (posted["channel"], posted["ts"])
    confirmation_ts = None
    if thread is not None:
        message = replies.confirmation(t, deps.clock.now(), opens_at)
        posted = client.chat_postMessage(channel=thread[0], thread_ts=thread[1], text=message.text,
                                         blocks=message.blocks, unfurl_links=False, unfurl_media=False)
        confirmation_ts = posted["ts"]
    card_at = None
    if triage:
        card = cards.triage_card(t, deps.clock.now())
        posted = client.chat_postMessage(channel=triage, text=card.text, blocks=card.blocks,
                                         unfurl_links=False, unfurl_media=False)
        card_at = (posted["channel"], posted["ts"])
    with unit_of_work(deps.engine) as session:
        ticket = queries.get_ticket(session, ref)
        intake.record_posts(session, ticket, thread=thread, confirmation_ts=confirmation_ts, card=card_at)
        changed = intake.ticket_version(session, ref) != rendered_version
    log.info("announced: %s, %s", "thread confirmed" if confirmation_ts else "no council thread",
             "triage card posted" if card_at else "no triage channel")
    if changed:  # someone acted on the ticket before its card's ts was recorded: bring the card up to date
        refresh_card(client, deps, ref)


def refresh_card(client: WebClient, deps: Deps, ref: str) -> None:
    """Update the triage card in place after any change."""
    with logs.bind(ticket=ref):
        _refresh_card(client, deps, ref)


def _refresh_card(client: WebClient, deps: Deps, ref: str) -> None:
    with unit_of_work(deps.engine) as session:
        ticket = queries.get_ticket(session, ref)
        where = (ticket.card_channel, ticket.card_ts)
    if where[0] is None or where[1] is None:
        return
    card = cards.triage_card(summary(deps, ref), deps.clock.now())
    try:
        client.chat_update(channel=where[0], ts=where[1], text=card.text, blocks=card.blocks)
    except SlackApiError as err:
        log.warning("%s: card update failed: %s", ref, err.response.get("error"))


def post_resolution(client: WebClient, deps: Deps, ref: str, note: str) -> None:
    """Tell the council in its thread, with the rating buttons."""
    with logs.bind(ticket=ref):
        t = summary(deps, ref)
        if not (t.thread_channel and t.thread_ts):
            log.info("resolved, but the ticket has no council thread to tell")
            return
        message = replies.resolution(t, note)
        client.chat_postMessage(channel=t.thread_channel, thread_ts=t.thread_ts, text=message.text,
                                blocks=message.blocks, unfurl_links=False, unfurl_media=False)
