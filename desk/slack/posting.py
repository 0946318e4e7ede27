"""Posting about tickets: the council thread, the confirmation, the triage card and its updates.

Each function re-reads the ticket, renders it with a pure builder, calls the Web API, and records the
`ts` Slack returns so replies and card updates find their way back. Each runs under its ticket's ref, so
every log line written while posting names the ticket.

A listener posts at once, after its ack. When Slack fails it (an outage, a 5xx, `ok: false`, a dropped or
timed-out connection), the work is handed to the outbox instead of being lost: an `announce`, `card` or
`resolution` row that the dispatcher posts with its retries and backoff, or gives up on visibly (row
`failed`, an alert in the triage channel). Each step of an announcement is recorded as soon as Slack
accepts it, so a retry carries on where the listener stopped and never posts a part twice.

The ticket is already saved when these run, so they wait out a database that is briefly unreachable
(`patiently`) rather than leave a ticket without its confirmation and card, or a post whose `ts` was never
recorded (a card nobody could update, a confirmation posted twice by the retry).
"""

from __future__ import annotations

import http.client
import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session, select

from desk.db import queries
from desk.db.engine import reading, unit_of_work
from desk.db.outage import patiently
from desk.db.tables import OutboxRow, TicketRow
from desk.observability import logs
from desk.services import council_notices, intake, problems, saved_replies, search
from desk.services.problem_views import KnownProblem
from desk.services.read_models import TicketSummary, summarize
from desk.services.tenancy import directory
from desk.slack import problem_messages
from desk.slack.blocks import cards, replies
from desk.slack.context import assignable
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")

# What a Web API call raises when Slack did not take it: refused, unreachable, dropped or timed out.
SLACK_FAILURES = (SlackApiError, SlackClientError, OSError, http.client.HTTPException)
# Outbox kinds posted by this module (the notifier sends them back here).
ANNOUNCE, CARD, RESOLUTION = intake.ANNOUNCE_KIND, "card", council_notices.RESOLUTION_KIND


def summary(deps: Deps, ref: str) -> TicketSummary:
    with reading(deps.engine) as session:
        return summarize(session, queries.get_ticket(session, ref), deps.clock.now())


def _card_extras(session: Session, ticket: TicketRow) -> tuple[list[search.SimilarTicket], list[tuple[str, str]]]:
    """What a triage card shows besides the ticket: "Similar tickets" (earlier tickets of its council or
    category) and the (reply id, title) of the saved replies its "Reply with…" menu offers."""
    choices = [(choice.reply_id, choice.title) for choice in saved_replies.list_current(session)]
    return search.similar(session, ticket), choices


def card_extras(deps: Deps, ref: str) -> tuple[list[search.SimilarTicket], list[tuple[str, str]]]:
    with reading(deps.engine) as session:
        return _card_extras(session, queries.get_ticket(session, ref))


def announce(client: WebClient, deps: Deps, ref: str, *, opens_at: datetime | None) -> None:
    """A new ticket: make sure it has a council thread, confirm in it, and put a card in triage.
    What Slack does not take now, the outbox posts later."""
    with logs.bind(ticket=ref):
        try:
            _announce(client, deps, ref, opens_at=opens_at)
        except SLACK_FAILURES as err:
            hand_over(deps, ref, ANNOUNCE, f"announce:{ref}", err,
                      {"opens_at": opens_at.isoformat() if opens_at else None})
            return
        with reading(deps.engine) as session:
            linked = problems.known_problem_for(session, ref) is not None
        if linked:  # the problem's triage message now lists this ticket: update it now, not at the worker's pass
            from desk.slack.notifier import tell_now  # the notifier delivers what this module posts

            tell_now(client, deps)


def _announce(client: WebClient, deps: Deps, ref: str, *, opens_at: datetime | None,
              council_thread: bool = True) -> str | None:
    """Post whatever of the announcement is not posted yet, recording each part as Slack accepts it;
    the triage card's ts (or the confirmation's) for the outbox. Raises what the Web API raises.
    `council_thread` False: the triage card only (a ticket opened by hand for nobody in particular)."""
    def look() -> tuple[int, TicketSummary, Any, str | None, str | None, tuple[str | None, str | None],
                        KnownProblem | None]:
        with reading(deps.engine) as session:  # one snapshot: the version is the one rendered
            ticket = queries.get_ticket(session, ref)
            rendered_version = intake.version_of(session, ticket)
            t = summarize(session, ticket, deps.clock.now())
            council = queries.get_council(session, t.council_id)
            triage = directory(session).triage_channel
            known = problems.known_problem_for(session, ticket)
            return (rendered_version, t, council, triage, ticket.confirmation_ts,
                    (ticket.card_channel, ticket.card_ts), known)

    rendered_version, t, council, triage, confirmation_ts, card_at, known = patiently(
        look, what=f"reading {ref} to post it")
    channels = council.slack.get("channels", [])
    thread = (t.thread_channel, t.thread_ts) if t.thread_ts else None
    council_failure: BaseException | None = None
    try:
        if thread is None and channels and council_thread:
            root = replies.ticket_opened(t)
            where = t.thread_channel if t.thread_channel in channels else channels[0]  # where /desk was typed
            posted = client.chat_postMessage(channel=where, text=root.text, blocks=root.blocks,
                                             unfurl_links=False, unfurl_media=False)
            thread = (posted["channel"], posted["ts"])
            _record(deps, ref, thread=thread)
        if thread is not None and confirmation_ts is None:
            message = replies.confirmation(t, deps.clock.now(), opens_at, known)
            posted = client.chat_postMessage(channel=thread[0], thread_ts=thread[1], text=message.text,
                                             blocks=message.blocks, unfurl_links=False, unfurl_media=False)
            confirmation_ts = posted["ts"]
            _record(deps, ref, confirmation_ts=confirmation_ts)
    except SLACK_FAILURES as err:  # the support team still gets its card; the council's part is retried
        council_failure = err
    if triage and card_at[1] is None:
        similar, choices = patiently(lambda: card_extras(deps, ref), what=f"finding tickets like {ref}")
        card = cards.triage_card(t, deps.clock.now(), assignable(client, deps), known, similar, choices)
        posted = client.chat_postMessage(channel=triage, text=card.text, blocks=card.blocks,
                                         unfurl_links=False, unfurl_media=False)
        card_at = (posted["channel"], posted["ts"])
        _record(deps, ref, card=(posted["channel"], posted["ts"]))
        if known is not None:  # intake linked it to a problem: the problem's triage message lists it now
            patiently(lambda: _problem_lists(deps, known.id, ref), what=f"queueing {known.ref}'s message")
    if council_failure is not None:
        raise council_failure
    changed = patiently(lambda: _version(deps, ref) != rendered_version, what=f"re-reading {ref}")
    log.info("announced: %s, %s", "thread confirmed" if confirmation_ts else "no council thread",
             "triage card posted" if card_at[1] else "no triage channel")
    if changed:  # someone acted on the ticket before its card's ts was recorded: bring the card up to date
        refresh_card(client, deps, ref)
    return card_at[1] or confirmation_ts


def _problem_lists(deps: Deps, problem_id: int, ref: str) -> None:
    """Queue the update of a problem's triage message for a ticket intake linked to it (sent by the worker,
    or at once by `announce`)."""
    with unit_of_work(deps.engine) as session:
        problem_messages.queue_message(session, problem_id, key=f"ticket:{ref}", at=deps.clock.now())


def _record(deps: Deps, ref: str, **posts: Any) -> None:
    """Where Slack put a post, recorded at once (waiting for the database if it is unreachable)."""
    def record() -> None:
        with unit_of_work(deps.engine) as session:
            intake.record_posts(session, queries.get_ticket(session, ref), **posts)

    patiently(record, what=f"recording where {ref} was posted")


def _version(deps: Deps, ref: str) -> int:
    with reading(deps.engine) as session:
        return intake.ticket_version(session, ref)


def refresh_card(client: WebClient, deps: Deps, ref: str) -> None:
    """Update the triage card in place after any change; the outbox retries what Slack does not take.
    A ticket of an open problem is listed on the problem's own message too: its update is queued (the
    worker sends it, or the problem listener at once)."""
    with logs.bind(ticket=ref):
        try:  # the same card again is harmless: the whole update is retried while the database is away
            patiently(lambda: _refresh_card(client, deps, ref), what=f"updating the card of {ref}")
        except SLACK_FAILURES as err:
            with reading(deps.engine) as session:
                version = intake.ticket_version(session, ref)
            hand_over(deps, ref, CARD, f"card:{ref}:{version}", err, {})
        patiently(lambda: _problem_lists_it(deps, ref), what=f"queueing the problem message listing {ref}")


def _problem_lists_it(deps: Deps, ref: str) -> None:
    with unit_of_work(deps.engine) as session:
        known = problems.known_problem_for(session, ref)
        if known is not None and known.is_open:
            version = intake.ticket_version(session, ref)
            problem_messages.queue_message(session, known.id, key=f"ticket:{ref}:{version}", at=deps.clock.now())


def _refresh_card(client: WebClient, deps: Deps, ref: str) -> str | None:
    now = deps.clock.now()
    with reading(deps.engine) as session:  # one read for all the card shows
        ticket = queries.get_ticket(session, ref)
        where = (ticket.card_channel, ticket.card_ts)
        if where[0] is None or where[1] is None:
            return None
        t = summarize(session, ticket, now)
        linked = problems.known_problem_for(session, ticket)
        similar, choices = _card_extras(session, ticket)
    card = cards.triage_card(t, now, assignable(client, deps), linked, similar, choices)
    client.chat_update(channel=where[0], ts=where[1], text=card.text, blocks=card.blocks)
    return where[1]


def _post_resolution(client: WebClient, deps: Deps, ref: str, note: str) -> str | None:
    t = summary(deps, ref)
    if not (t.thread_channel and t.thread_ts):
        log.info("resolved, but the ticket has no council thread to tell")
        return None
    message = replies.resolution(t, note, deps.clock.now())
    posted = client.chat_postMessage(channel=t.thread_channel, thread_ts=t.thread_ts, text=message.text,
                                     blocks=message.blocks, unfurl_links=False, unfurl_media=False)
    _record(deps, ref, resolution_ts=str(posted["ts"]))  # its "Not fixed" button goes when the ticket closes
    return str(posted["ts"])


def hand_over(deps: Deps, ref: str, kind: str, key: str, err: BaseException, payload: dict[str, Any]) -> None:
    """Slack did not take a post: write it to the outbox (once per key) for the dispatcher to send."""
    reason = _reason(err)
    now = deps.clock.now()
    with unit_of_work(deps.engine) as session:
        ticket = queries.get_ticket(session, ref)
        target = ticket.card_channel if kind == CARD else ticket.slack_channel  # for pacing, and any alert
        if session.exec(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).first() is None:
            session.add(OutboxRow(idempotency_key=key, kind=kind, council_id=ticket.council_id, ticket_id=ticket.id,
                                  target=target, created_at=now, available_at=now, last_error=reason,
                                  payload={"ref": ref, **payload}))
    log.warning("%s: Slack did not take the %s (%s): handed to the outbox as %s", ref, kind, reason, key)


def deliver(client: WebClient, deps: Deps, kind: str, payload: dict[str, Any]) -> str | None:
    """The dispatcher's half: post an `announce`, `card` or `resolution` row (raising what Slack raises)."""
    ref = payload["ref"]
    with logs.bind(ticket=ref):
        if kind == ANNOUNCE:
            opens_at = datetime.fromisoformat(payload["opens_at"]) if payload.get("opens_at") else None
            return _announce(client, deps, ref, opens_at=opens_at,
                             council_thread=payload.get("council_thread", True))
        if kind == CARD:
            return _refresh_card(client, deps, ref)
        if kind == RESOLUTION:
            with reading(deps.engine) as session:
                note = council_notices.resolution_note(session, ref, payload)
            return _post_resolution(client, deps, ref, note)
    raise ValueError(f"posting does not deliver {kind!r}")


def _reason(err: BaseException) -> str:
    if isinstance(err, SlackApiError):
        code = err.response.get("error") if isinstance(err.response.data, dict) else None
        return str(code or f"http_{err.response.status_code}")
    return type(err).__name__
