"""Saved replies: synced and versioned like playbooks, offered on the triage card, sent as a public reply.

Sync: a reply whose title or body changed gets a new version; a reply gone from replies.yaml keeps its
versions but none is current, so it leaves the card's menu. A posted reply's event names the version it
started from (`saved_reply: {id, version}`), beside the words the engineer actually sent.

Sending is a public reply by support like one typed in the council's thread (`tickets.reply`: respond
met, a new ticket moves in progress), recorded in the same transaction as the submission's id, so a
resubmitted form has one effect. The words reach the council's thread through the outbox (`saved_reply`
rows), read back from the event when posted: the outbox keeps no copy that retention would miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import OutboxRow, SavedReplyVersionRow, TicketRow
from desk.domain.calendar import business_calendar
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.playbook import ClockKind
from desk.domain.roles import Power, require
from desk.domain.saved_replies import Placeholder, SavedReply, canonical, spoken_day, spoken_within
from desk.domain.tenancy import Actor
from desk.errors import InvalidInput
from desk.services import sla_state, tickets

OUTBOX_KIND = "saved_reply"


@dataclass
class RepliesSyncReport:
    new_versions: dict[str, int] = field(default_factory=dict)  # reply id -> version created
    unchanged: dict[str, int] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)  # gone from replies.yaml: no longer offered


@dataclass(frozen=True)
class ReplyChoice:
    reply_id: str
    version: int
    title: str


def content_hash(reply: SavedReply) -> str:
    return hashlib.sha256(json.dumps(canonical(reply), sort_keys=True).encode()).hexdigest()


def sync(session: Session, replies: Mapping[str, SavedReply], *, at: datetime) -> RepliesSyncReport:
    report = RepliesSyncReport()
    current = {row.reply_id: row for row in _current_rows(session)}
    for reply_id, reply in sorted(replies.items()):
        digest, row = content_hash(reply), current.pop(reply_id, None)
        if row is not None and row.content_hash == digest:
            report.unchanged[reply_id] = row.version
            continue
        latest = session.exec(select(SavedReplyVersionRow.version).where(SavedReplyVersionRow.reply_id == reply_id)
                              .order_by(col(SavedReplyVersionRow.version).desc())).first()
        if row is not None:
            row.current = False
            session.add(row)
        version = (latest or 0) + 1
        session.add(SavedReplyVersionRow(reply_id=reply_id, version=version, title=reply.title, body=reply.body,
                                         content_hash=digest, current=True, created_at=at))
        report.new_versions[reply_id] = version
    for row in current.values():
        row.current = False
        session.add(row)
        report.retired.append(row.reply_id)
    session.flush()
    return report


def _current_rows(session: Session) -> list[SavedReplyVersionRow]:
    return list(session.exec(select(SavedReplyVersionRow).where(col(SavedReplyVersionRow.current).is_(True))
                             .order_by(SavedReplyVersionRow.reply_id)).all())


def list_current(session: Session) -> list[ReplyChoice]:
    """What the card's "Reply with…" menu offers, in the file's ids' order (alphabetical)."""
    return [ReplyChoice(row.reply_id, row.version, row.title) for row in _current_rows(session)]


def get_current(session: Session, reply_id: str) -> tuple[SavedReply, int]:
    row = session.exec(select(SavedReplyVersionRow).where(SavedReplyVersionRow.reply_id == reply_id,
                                                          col(SavedReplyVersionRow.current).is_(True))).first()
    if row is None:
        raise InvalidInput(f'there is no saved reply "{reply_id}" any more (replies.yaml changed): pick another')
    return SavedReply(row.reply_id, row.title, row.body), row.version


@dataclass(frozen=True)
class TicketFacts:
    """What a reply may say about its ticket, except people's names (Slack knows those)."""

    values: Mapping[Placeholder, str]
    requester: str | None  # a user id, named by the caller
    is_open: bool


def ticket_facts(session: Session, ref: str, now: datetime) -> TicketFacts:
    ticket = queries.get_ticket(session, ref)
    council = queries.get_council(session, ticket.council_id)
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    calendar = business_calendar(playbook.calendar.with_division(council.division))
    next_day = calendar.end_of_working_days_after(now, 1).astimezone(calendar.zone).date()
    target = sla_state.policy_for(session, ticket, council).target(ticket.priority)
    working = target.clock is ClockKind.BUSINESS
    values = {
        Placeholder.COUNCIL: council.name, Placeholder.REF: ticket.ref, Placeholder.TITLE: ticket.title,
        Placeholder.NEXT_WORKING_DAY: spoken_day(next_day),
        Placeholder.PRIORITY: f"{ticket.priority} {target.name}",
        Placeholder.RESPOND_WITHIN: spoken_within(target.respond_within, working=working),
        Placeholder.RESOLVE_WITHIN: spoken_within(target.resolve_within, working=working),
    }
    return TicketFacts(values, ticket.requester, ticket.status in OPEN_STATUSES)


def send(session: Session, *, actor: Actor, ref: str, text: str, reply_id: str, version: int,
         at: datetime) -> TicketRow:
    """The engineer's (edited) reply, as the support team's public reply in the council's thread."""
    require(actor, Power.REPLY_TO_COUNCIL)
    ticket = queries.get_ticket(session, ref)
    if ticket.slack_channel is None:
        raise InvalidInput(f"{ref} has no council thread to reply in (it was opened by hand without one)")
    replied = tickets.reply(session, ref=ref, text=text, actor=actor.user, at=at,
                            saved_reply={"id": reply_id, "version": version})
    assert replied.id is not None
    event = queries.list_ticket_events(session, replied.id, types=("replied",))[-1]
    session.add(OutboxRow(idempotency_key=f"{OUTBOX_KIND}:{ref}:{event.seq}", kind=OUTBOX_KIND,
                          council_id=replied.council_id, ticket_id=replied.id, target=replied.slack_channel,
                          created_at=at, available_at=at, payload={"ref": ref, "seq": event.seq}))
    session.flush()
    return replied


def sent_text(session: Session, payload: Mapping) -> tuple[str, str | None] | None:
    """The words and the sender of a `saved_reply` row, read from its event; None once retention has
    removed the words (nothing is posted then)."""
    ticket = queries.get_ticket(session, str(payload["ref"]))
    assert ticket.id is not None
    event = queries.find_ticket_event(session, ticket.id, int(payload["seq"]))
    text = event.data.get("text") if event is not None else None
    return (text, event.actor) if isinstance(text, str) and event is not None else None
