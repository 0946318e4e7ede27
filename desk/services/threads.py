"""What people say in a ticket's threads, at every status: no council message is ever dropped.

The rule is the domain's (`lifecycle.thread_effect`): in an open ticket's council thread support replies
and the council comments; once resolved, a council message reopens the ticket and support's messages are
notes; once closed, a council message opens a follow-up ticket linked to the closed one. Replies in the
triage card's thread are internal notes. "Not fixed" (the button on the resolution message) reopens with
the council's reason.

A closed ticket's thread can hear several messages: the first opens a follow-up, the rest go to it (a
comment while it is open, a reopen once it is resolved) rather than opening a follow-up each. Only when
the follow-up is closed too does a new message open another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import TicketRow
from desk.domain.lifecycle import Speaker, Status, ThreadEffect, thread_effect
from desk.domain.roles import Power, require
from desk.domain.tenancy import Actor
from desk.errors import InvalidInput, PermissionDenied
from desk.services import council_notices, tickets

TITLE_LENGTH = 120
NO_TEXT = "(a message with no text, such as a file)"


@dataclass(frozen=True)
class ThreadOutcome:
    ticket: TicketRow  # the ticket the message went to
    effect: ThreadEffect
    heard_in: TicketRow | None = None  # the closed ticket in whose thread it was written, when not `ticket`
    opens_at: datetime | None = None  # a follow-up opened outside working hours: when work starts

    @property
    def kind(self) -> str:
        return str(self.effect)


def speaker(actor: Actor, ticket: TicketRow) -> Speaker:
    if actor.is_support:
        return Speaker.SUPPORT
    if actor.is_council and actor.council_id == ticket.council_id:
        return Speaker.COUNCIL
    return Speaker.OTHER


def thread_message(session: Session, *, actor: Actor, channel: str, thread_ts: str, text: str,
                   at: datetime) -> ThreadOutcome | None:
    """A reply in a ticket's thread: what it does depends on whose thread, the ticket's status, and who."""
    council_thread = queries.find_ticket_by_message(session, channel, thread_ts)
    if council_thread is not None:
        if actor.from_support_team:  # a public reply stops the respond clock: the support team's alone
            require(actor, Power.REPLY_TO_COUNCIL)
        # Decide on the status as it is under the council's lock: a reply racing the worker's close
        # becomes a follow-up, never a failed reopen (and a lost message).
        queries.get_council(session, council_thread.council_id, lock=True)
        session.refresh(council_thread)
        return _in_council_thread(session, council_thread, actor, text, at)
    card_thread = queries.find_ticket_by_card(session, channel, thread_ts)
    if card_thread is not None and actor.from_support_team:
        require(actor, Power.WRITE_NOTES)
        return ThreadOutcome(tickets.note(session, ref=card_thread.ref, text=text, actor=actor.user, at=at),
                             ThreadEffect.NOTE)
    return None


def _in_council_thread(session: Session, ticket: TicketRow, actor: Actor, text: str, at: datetime,
                       heard_in: TicketRow | None = None) -> ThreadOutcome | None:
    effect = thread_effect(Status(ticket.status), speaker(actor, ticket))
    ref, user = ticket.ref, actor.user
    text = text if text.strip() else NO_TEXT  # a file on its own still counts: never dropped
    if effect is ThreadEffect.IGNORE:
        return None
    if effect is ThreadEffect.REPLY:
        changed = tickets.reply(session, ref=ref, text=text, actor=user, at=at)
    elif effect is ThreadEffect.COMMENT:
        changed = tickets.comment(session, ref=ref, text=text, actor=user, at=at, council_id=actor.council_id)
    elif effect is ThreadEffect.NOTE:
        changed = tickets.note(session, ref=ref, text=text, actor=user, at=at, where="council_thread")
    elif effect is ThreadEffect.REOPEN:
        changed = tickets.reopen(session, ref=ref, reason=text, actor=user, at=at, council_id=actor.council_id,
                                 via="thread")
    elif effect is ThreadEffect.FOLLOW_UP:
        return _follow_up(session, ticket, actor, text, at)
    else:
        raise ValueError(f"unknown thread effect {effect!r}")
    return ThreadOutcome(changed, effect, heard_in)


def _follow_up(session: Session, closed: TicketRow, actor: Actor, text: str, at: datetime) -> ThreadOutcome | None:
    """A council message in a closed ticket's thread: to its live follow-up, or a new one."""
    assert closed.id is not None
    live = [t for t in queries.list_follow_ups(session, closed.id) if t.status != Status.CLOSED]
    if live:
        return _in_council_thread(session, live[-1], actor, text, at, heard_in=closed)
    opened = tickets.open_ticket(
        session, council_id=closed.council_id, title=_title(text, closed), description=text, at=at,
        actor=actor.user, requester=actor.user, category=closed.category, follow_up_of=closed.id,
        slack_channel=closed.slack_channel)  # its own thread, in the channel the council used
    return ThreadOutcome(opened, ThreadEffect.FOLLOW_UP, closed)


def _title(text: str, closed: TicketRow) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    title = f"Follow-up to {closed.ref}: {line}" if line else f"Follow-up to {closed.ref}"
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1].rstrip() + "…"


def not_fixed(session: Session, *, actor: Actor, ref: str, reason: str, at: datetime) -> TicketRow:
    """The council says a resolution did not fix it ("Not fixed"): reopen with its reason.
    Only a member of the ticket's own council may; another council's ticket is simply not found."""
    ticket = check_not_fixed(session, actor=actor, ref=ref)
    queries.get_council(session, ticket.council_id, lock=True)  # the worker may be closing it right now
    session.refresh(ticket)
    refuse_unless_resolved(ticket)
    return tickets.reopen(session, ref=ticket.ref, reason=reason, actor=actor.user, at=at,
                          council_id=actor.council_id, via="not_fixed")


def check_not_fixed(session: Session, *, actor: Actor, ref: str) -> TicketRow:
    """May this person press "Not fixed" on this ticket now? The ticket, or a refusal that says why."""
    if not actor.is_council or actor.council_id is None:
        raise PermissionDenied("only the council that raised a ticket can say it is not fixed")
    ticket = queries.get_ticket(session, ref, council_id=actor.council_id)
    refuse_unless_resolved(ticket)
    return ticket


def refuse_unless_resolved(ticket: TicketRow) -> None:
    if ticket.status == Status.CLOSED:
        raise InvalidInput(f"{ticket.ref} is closed: reply in its thread and we'll open a follow-up ticket")
    if ticket.status != Status.RESOLVED:
        raise InvalidInput(f"{ticket.ref} is already open again: the support team is on it")


def resolution_post(session: Session, ref: str) -> tuple[str, str, str] | None:
    """Where the latest resolution message is (channel, ts) and its note, to rebuild it for a new status."""
    ticket = queries.get_ticket(session, ref)
    if not (ticket.slack_channel and ticket.resolution_ts) or ticket.id is None:
        return None
    note = council_notices.latest_note(session, ticket.id)  # as edited, when it was
    return ticket.slack_channel, ticket.resolution_ts, note if isinstance(note, str) else "(redacted)"
