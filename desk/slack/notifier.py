"""The Slack side of the outbox: implements the `Notifier` port the dispatcher talks to.

Rendering happens here, at send time, from the ticket as it is now; the outbox row only says what
happened (which step, which recipient). Slack's answers are mapped to `DeliveryFailed`: permanent for
errors that retrying cannot fix, `retry_after` for 429s, transient otherwise.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import council_notices
from desk.services.dispatch import Dispatcher
from desk.services.ports import DeliveryFailed, OutboxItem, TicketReads
from desk.services.read_models import TicketSummary, summarize_many
from desk.services.tenancy import support_definition
from desk.slack import council_thread, lifecycle_posts, posting, problem_messages, problem_posts, reply_posts
from desk.slack.blocks import Message
from desk.slack.blocks.escalation import alert, escalation
from desk.slack.deps import Deps

log = logging.getLogger("desk.notifier")

PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive", "token_revoked",
    "token_expired", "not_authed", "user_not_found", "cannot_dm_bot", "user_disabled", "invalid_blocks",
    "invalid_blocks_format", "msg_too_long", "no_permission", "missing_scope", "restricted_action",
    "team_access_not_granted", "invalid_arguments",
})
POSTING_KINDS = frozenset({posting.ANNOUNCE, posting.CARD, posting.RESOLUTION})


class SlackNotifier:
    def __init__(self, client: WebClient, deps: Deps, renderers: dict | None = None):
        self.client, self.deps = client, deps
        self.renderers = renderers or {}  # kind -> callable(notifier, item) -> ts, for digests
        self._prepared: dict[tuple[int, int], tuple[TicketSummary, tuple]] = {}  # see `prepare`

    def prepare(self, session: Session, items: Sequence[OutboxItem], reads: TicketReads) -> None:
        """The dispatcher is about to deliver these one after the other: read the tickets its escalations
        render, in its transaction (as of now, a moment before their posts; what it has read there, `reads`,
        is not read again), for `deliver` to take each from.
        A row is taken once, under its claim (its attempt); whatever was not taken is dropped at the next
        call, and `deliver` reads for itself what it does not find."""
        self._prepared = {}
        escalations = [item for item in items if item.kind == "escalation" and item.payload.get("ref")]
        if not escalations:
            return
        refs = {item.payload["ref"].upper() for item in escalations}
        found = [ticket for ticket in reads.tickets.values() if ticket.ref in refs]
        missing = refs - {ticket.ref for ticket in found}
        found += queries.tickets_by_ref(session, missing).values() if missing else []
        summaries = {s.ref: (s, (t.card_channel, t.card_ts)) for s, t in zip(
            summarize_many(session, found, self.deps.clock.now(), with_history=False, clocks=reads.clocks,
                           councils=reads.councils, slas=reads.slas), found, strict=True)}
        self._prepared = {(item.id, item.attempts): summaries[item.payload["ref"].upper()] for item in escalations
                          if item.payload["ref"].upper() in summaries}

    def deliver(self, item: OutboxItem) -> str | None:
        try:
            if item.kind == "escalation":
                return self._escalation(item)
            if item.kind == "alert":
                return self._post(self._triage_channel(), alert(item.payload))
            if item.kind in self.renderers:
                return self.renderers[item.kind](self, item)
            if item.kind in POSTING_KINDS:  # what a listener could not post at once (see posting.py)
                return posting.deliver(self.client, self.deps, item.kind, item.payload)
            if item.kind in lifecycle_posts.KINDS:  # closed by the worker, or a listener's post handed over
                return lifecycle_posts.deliver(self.client, self.deps, item.kind, item.payload)
            if item.kind == council_notices.OUTBOX_KIND:
                return council_thread.deliver_notice(self.client, self.deps, item.payload)
            if item.kind in problem_messages.KINDS:  # a problem's triage message, its broadcast
                return problem_messages.deliver(self.client, self.deps, item.kind, item.payload)
            if item.kind == problem_posts.KIND:  # a problem's update in one linked ticket's thread
                return problem_posts.deliver(self.client, self.deps, item.payload)
            if item.kind in reply_posts.KINDS:  # saved replies, and the reactions that show a ticket's state
                return reply_posts.deliver(self.client, self.deps, item.kind, item.payload)
        except SlackApiError as err:
            raise _failure(err) from None
        except SlackClientError as err:  # connection trouble after the client's own bounded retries
            raise DeliveryFailed(type(err).__name__) from None
        except (OSError, http.client.HTTPException) as err:  # dropped, reset or timed out (no answer in time)
            raise DeliveryFailed(type(err).__name__) from None
        raise DeliveryFailed(f"no renderer for {item.kind}", permanent=True)

    # -- building blocks other renderers use -----------------------------------------------------------

    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> tuple[str, str]:
        """Post and return (conversation id, ts): a DM posted to a user id comes back with its D… id."""
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        answer = self.client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                              unfurl_links=False, unfurl_media=False, **extra)
        return answer["channel"], answer["ts"]

    def people(self, ids: list[str]) -> list[str]:
        """User ids, with user groups (S…) expanded to their members."""
        found: list[str] = []
        for ident in ids:
            if ident.startswith("S"):
                found += self.client.usergroups_users_list(usergroup=ident).get("users", [])
            else:
                found.append(ident)
        return list(dict.fromkeys(found))

    # -- internals ---------------------------------------------------------------------------------------

    def _post(self, channel: str, message: Message, thread_ts: str | None = None) -> str:
        return self.post(channel, message, thread_ts)[1]

    def _triage_channel(self) -> str:
        with unit_of_work(self.deps.engine) as session:
            channel = support_definition(session).get("triage_channel")
        if not channel:
            raise DeliveryFailed("no triage channel configured", permanent=True)
        return channel

    def _escalation(self, item: OutboxItem) -> str | None:
        prepared = self._prepared.pop((item.id, item.attempts), None)
        if prepared is not None:
            summary, card = prepared
        else:
            with unit_of_work(self.deps.engine) as session:
                ticket = queries.get_ticket(session, item.payload["ref"])
                summary = summarize_many(session, [ticket], self.deps.clock.now(), with_history=False)[0]
                card = (ticket.card_channel, ticket.card_ts)
        thread_url = None
        if summary.thread_channel and summary.thread_ts:
            try:
                thread_url = self.client.chat_getPermalink(channel=summary.thread_channel,
                                                           message_ts=summary.thread_ts).get("permalink")
            except SlackApiError as err:
                log.info("%s: no permalink: %s", summary.ref, err.response.get("error"))
        message = escalation(summary, item.payload, self.deps.clock.now(), thread_url)
        if item.target == "triage" or not item.target:
            if card[0] and card[1]:
                return self._post(card[0], message, thread_ts=card[1])  # a reply on the ticket's card
            return self._post(self._triage_channel(), message)
        first = None
        for person in self.people([item.target]):
            ts = self._post(person, message)  # a DM from the app
            first = first or ts
        return first


def _failure(err: SlackApiError) -> DeliveryFailed:
    code = str(err.response.get("error") or "unknown")
    if err.response.status_code == 429 or code == "ratelimited":
        retry = err.response.headers.get("Retry-After") or err.response.headers.get("retry-after") or "1"
        return DeliveryFailed("ratelimited", retry_after=float(retry))
    return DeliveryFailed(code, permanent=code in PERMANENT)


def tell_council_now(client: WebClient, deps: Deps, ref: str) -> None:
    """Send the notices (and a resolution note) a change to `ref` just queued for its council, now rather
    than at the worker's next pass. Through the dispatcher: each is claimed first (never posted twice), and what Slack does not take
    is retried by the worker."""
    ticket_id = council_thread.ticket_id(deps, ref)
    if ticket_id is None:
        return
    dispatcher = Dispatcher(deps.engine, SlackNotifier(client, deps), deps.clock.now, pace=0)
    report = dispatcher.run_once(ticket_id=ticket_id, kinds=(council_notices.OUTBOX_KIND,
                                                            council_notices.RESOLUTION_KIND, *reply_posts.KINDS))
    if report.retried or report.failed:
        log.warning("%s: %s council notice(s) left to the worker (%s)", ref, report.retried + report.failed,
                    ", ".join(report.failures) or "to retry")


def tell_now(client: WebClient, deps: Deps, refs: Sequence[str] = ()) -> None:
    """After a change to a problem: send its triage message and broadcast rows, and what it queued for each
    of the tickets `refs` (a problem update in their threads, a resolution, a notice), now rather than at
    the worker's next pass; the worker retries what Slack does not take."""
    dispatcher = Dispatcher(deps.engine, SlackNotifier(client, deps), deps.clock.now, pace=0)
    left = []
    for ref in dict.fromkeys(refs):
        ticket_id = council_thread.ticket_id(deps, ref)
        if ticket_id is not None:
            report = dispatcher.run_once(ticket_id=ticket_id, kinds=(
                problem_posts.KIND, council_notices.OUTBOX_KIND, council_notices.RESOLUTION_KIND))
            left += report.failures if report.failed else []
    report = dispatcher.run_once(kinds=tuple(problem_messages.KINDS))
    if report.retried or report.failed or left:
        log.warning("problem posts left to the worker: %s", ", ".join(left + report.failures) or "to retry")
