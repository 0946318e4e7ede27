"""Posting as a ticket's life moves on: reopened, closed, a follow-up opened from a closed ticket's thread.

Like `posting`, each function re-reads the ticket, renders with a pure builder (`blocks.lifecycle`,
`replies.resolution`), and hands what Slack does not take to the outbox (kinds below), which the notifier
sends back here. A ticket's resolution message is rebuilt for its new status, so its "Not fixed" button
is there only while the ticket is resolved. Re-posting is safe for every part but the notice itself,
which is posted last: a retry repeats only edits.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.domain.lifecycle import ThreadEffect
from desk.observability import logs
from desk.services import intake, threads
from desk.services.closing import CLOSED
from desk.slack import posting
from desk.slack.blocks import Message, lifecycle, replies
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")

REOPENED, FOLLOW_UP, NOTE_EDITED = "reopened", "follow_up", "resolution_edited"
KINDS = frozenset({CLOSED, REOPENED, FOLLOW_UP, NOTE_EDITED})


def after_thread_message(client: WebClient, deps: Deps, outcome: intake.ThreadOutcome) -> None:
    """What Slack shows after a message in a ticket's thread was recorded (`services.threads`)."""
    ref = outcome.ticket.ref
    if outcome.effect is ThreadEffect.FOLLOW_UP:
        posting.announce(client, deps, ref, opens_at=outcome.opens_at)
    elif outcome.effect is ThreadEffect.REOPEN:
        reopened(client, deps, ref)
    elif outcome.effect in (ThreadEffect.REPLY, ThreadEffect.COMMENT, ThreadEffect.NOTE):
        posting.refresh_card(client, deps, ref)
    else:
        raise ValueError(f"no posting for thread effect {outcome.effect!r}")
    if outcome.heard_in is not None:  # said in a closed ticket's thread: tell it where the words went
        old = outcome.heard_in.ref
        _try(client, deps, old, FOLLOW_UP, f"{FOLLOW_UP}:{old}:{ref}:{_version(deps, ref)}",
             {"follow_up": ref, "opened": outcome.effect is ThreadEffect.FOLLOW_UP})


def reopened(client: WebClient, deps: Deps, ref: str) -> None:
    """Say so in the thread, retire the resolution message's buttons, update the card."""
    _try(client, deps, ref, REOPENED, f"{REOPENED}:{ref}:{_version(deps, ref)}", {})


def note_edited(client: WebClient, deps: Deps, ref: str) -> None:
    """The resolution message in the council's thread says the edited note; the card updates."""
    _try(client, deps, ref, NOTE_EDITED, f"{NOTE_EDITED}:{ref}:{_version(deps, ref)}", {})


def deliver(client: WebClient, deps: Deps, kind: str, payload: dict[str, Any]) -> str | None:
    """The dispatcher's half (and the listener's first try): raises what the Web API raises."""
    ref = payload["ref"]
    with logs.bind(ticket=ref):
        if kind == CLOSED:
            return _closed(client, deps, ref)
        if kind == REOPENED:
            return _reopened(client, deps, ref)
        if kind == NOTE_EDITED:
            _rebuild_resolution(client, deps, ref)
            posting.refresh_card(client, deps, ref)
            return None
        if kind == FOLLOW_UP:
            return _follow_up(client, deps, ref, payload["follow_up"], bool(payload.get("opened")))
    raise ValueError(f"lifecycle posting does not deliver {kind!r}")


def _try(client: WebClient, deps: Deps, ref: str, kind: str, key: str, payload: dict[str, Any]) -> None:
    with logs.bind(ticket=ref):
        try:
            deliver(client, deps, kind, {"ref": ref, **payload})
        except posting.SLACK_FAILURES as err:
            posting.hand_over(deps, ref, kind, key, err, payload)


def _closed(client: WebClient, deps: Deps, ref: str) -> str | None:
    _rebuild_resolution(client, deps, ref)
    posting.refresh_card(client, deps, ref)
    return _tell(client, deps, ref, lifecycle.closed(posting.summary(deps, ref)))


def _reopened(client: WebClient, deps: Deps, ref: str) -> str | None:
    _rebuild_resolution(client, deps, ref)
    posting.refresh_card(client, deps, ref)
    return _tell(client, deps, ref, lifecycle.reopened(posting.summary(deps, ref), deps.clock.now()))


def _follow_up(client: WebClient, deps: Deps, closed_ref: str, follow_up_ref: str, opened: bool) -> str | None:
    follow_up = posting.summary(deps, follow_up_ref)
    url = _permalink(client, follow_up.thread_channel, follow_up.thread_ts)
    build = lifecycle.follow_up_opened if opened else lifecycle.added_to_follow_up
    posting.refresh_card(client, deps, closed_ref)  # the closed ticket's card names its follow-up
    return _tell(client, deps, closed_ref, build(closed_ref, follow_up, url))


def _tell(client: WebClient, deps: Deps, ref: str, message: Message) -> str | None:
    t = posting.summary(deps, ref)
    if not (t.thread_channel and t.thread_ts):
        log.info("no council thread to tell")
        return None
    posted = client.chat_postMessage(channel=t.thread_channel, thread_ts=t.thread_ts, text=message.text,
                                     blocks=message.blocks, unfurl_links=False, unfurl_media=False)
    return str(posted["ts"])


def _rebuild_resolution(client: WebClient, deps: Deps, ref: str) -> None:
    """The resolution message as it should look now: "Not fixed" only while the ticket is resolved."""
    def look() -> tuple[str, str, str] | None:
        with unit_of_work(deps.engine) as session:
            return threads.resolution_post(session, ref)

    where = patiently(look, what=f"reading {ref}'s resolution message")
    if where is None:
        return
    channel, ts, note = where
    message = replies.resolution(posting.summary(deps, ref), note, deps.clock.now())
    client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)


def _permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not (channel and ts):
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as err:
        log.info("no permalink for %s/%s: %s", channel, ts, err.response.get("error"))
        return None


def _version(deps: Deps, ref: str) -> int:
    def read() -> int:
        with unit_of_work(deps.engine) as session:
            return intake.ticket_version(session, ref)

    return patiently(read, what=f"reading {ref}")
