"""A person's rights over what desk holds about them: a subject access export and the erasure of their words.

desk knows people by their Slack user id (it stores no names or e-mail addresses): as the requester of a
ticket, its assignee, the actor of an event, the person an event names (an assignment), the author of a
rating, the recipient of a direct message, and as a support role in the registry. `export_person` finds
all of it, across every council, as one JSON-able document (docs/data-protection.md describes each part).

Each export is itself recorded: every ticket it disclosed gets a `privacy_export` event in its council's
hash chain (who asked, about whom, which parts), so a council can see when its tickets' data left desk.

`redact_person` removes the person's words the way retention does (desk/services/retention.py), and only
where retention itself could: on closed tickets, in events sealed by recipe 2 (desk/domain/audit.py).
Their words are the text of the events they wrote (replies, comments, notes, resolution notes, reasons)
and, on tickets they requested, the request itself (the ticket's title and description and the `opened`
event's). Each marker is listed by a `redacted` event in the chain, so `desk audit verify` stays green.
Open tickets keep their words (support is still working from them) and are named in the result, to be
redacted once closed; events written before sealing keep theirs too and are counted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, String, cast
from sqlmodel import Session, col, or_, select

from desk import __version__
from desk.db import queries, search_index
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow, TicketEventRow, TicketRatingRow, TicketRow
from desk.domain.audit import REDACTED_TYPE, SEALED_KEYS, replace_text
from desk.domain.lifecycle import Status
from desk.errors import InvalidInput
from desk.services import audit, inbox, search
from desk.services.retention import REDACTED_TITLE

EXPORT_TYPE = "privacy_export"
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
ROLES = (("engineers", "engineer"), ("duty_lead", "duty lead"), ("service_managers", "service manager"))


def require_user_id(user_id: str) -> str:
    if not SLACK_USER_ID.fullmatch(user_id):
        raise InvalidInput(f"--user: {user_id!r} is not a Slack user id (U… or W…, capitals and digits)")
    return user_id


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _names(value: Any, user_id: str) -> bool:
    """Does an event's data mention the person (an assignment to or from them)?"""
    if isinstance(value, str):
        return value == user_id
    if isinstance(value, dict):
        return any(_names(v, user_id) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, user_id) for v in value)
    return False


def _ticket(ticket: TicketRow) -> dict:
    return {"ref": ticket.ref, "council": ticket.council_id, "title": ticket.title,
            "description": ticket.description, "status": ticket.status, "priority": ticket.priority,
            "category": ticket.category, "requester": ticket.requester, "assignee": ticket.assignee,
            "opened_at": _iso(ticket.opened_at), "resolved_at": _iso(ticket.resolved_at),
            "closed_at": _iso(ticket.closed_at), "redacted_at": _iso(ticket.redacted_at),
            "slack_channel": ticket.slack_channel, "slack_ts": ticket.slack_ts}


def _event(event: TicketEventRow) -> dict:
    return {"council": event.council_id, "ticket": event.ticket_ref, "seq": event.seq, "type": event.type,
            "actor": event.actor, "at": event.at.isoformat(), "data": event.data}


def _roles(session: Session, user_id: str) -> list[str]:
    config = queries.find_support_config(session)
    support = config.definition if config else {}
    held = []
    for key, role in ROLES:
        named = support.get(key)
        if named == user_id or (isinstance(named, list) and user_id in named):
            held.append(role)
    return held


def _rota(session: Session, user_id: str) -> dict:
    """The duty rota's entries naming the person (weeks on duty, pattern weeks, leave); empty without one."""
    config = queries.find_support_config(session)
    rota = (config.definition if config else {}).get("rota") or {}

    def on(shift: dict) -> bool:
        return shift.get("duty_lead") == user_id or user_id in shift.get("engineers", [])

    pattern = rota.get("pattern") or {}
    return {"weeks": [w for w in rota.get("weeks", []) if on(w)],
            "pattern_start": pattern.get("start") if any(on(s) for s in pattern.get("cycle", [])) else None,
            "pattern_cycle": [index for index, shift in enumerate(pattern.get("cycle", [])) if on(shift)],
            "leave": [x for x in rota.get("leave", []) if x.get("person") == user_id]}


def export_person(session: Session, *, user_id: str, now: datetime) -> dict:
    """Everything desk holds about one person, across councils, oldest first within each part."""
    require_user_id(user_id)
    requested = session.exec(select(TicketRow).where(TicketRow.requester == user_id)
                             .order_by(TicketRow.council_id, TicketRow.number)).all()
    assigned = session.exec(select(TicketRow).where(TicketRow.assignee == user_id)
                            .order_by(TicketRow.council_id, TicketRow.number)).all()
    acted = session.exec(select(TicketEventRow).where(TicketEventRow.actor == user_id)
                         .order_by(TicketEventRow.council_id, TicketEventRow.seq)).all()
    # Events by others that name the person (assigned to or from them, a redaction or export about them):
    # the database narrows to data whose text holds the id, then each value is compared whole.
    candidates = session.exec(select(TicketEventRow).where(TicketEventRow.actor != user_id,
                                                           cast(TicketEventRow.data, String).contains(user_id))
                              .order_by(TicketEventRow.council_id, TicketEventRow.seq)).all()
    naming = [e for e in candidates if _names(e.data, user_id)]
    ratings = session.exec(select(TicketRatingRow, TicketRow).join(TicketRow)
                           .where(TicketRatingRow.rated_by == user_id)
                           .order_by(TicketRow.council_id, TicketRow.number, TicketRatingRow.cycle)).all()
    messages = session.exec(select(OutboxRow).where(OutboxRow.target == user_id)
                            .order_by(OutboxRow.created_at, OutboxRow.id)).all()
    refs = {row.id: row.ref for row in session.exec(select(TicketRow).where(col(TicketRow.id).in_(
        [m.ticket_id for m in messages if m.ticket_id is not None]))).all()}
    councils = sorted({t.council_id for t in [*requested, *assigned]} | {e.council_id for e in [*acted, *naming]}
                      | {t.council_id for _, t in ratings} | {m.council_id for m in messages if m.council_id})
    return {
        "subject": user_id, "generated_at": now.isoformat(), "desk_version": __version__,
        "councils": councils,
        "support_roles": _roles(session, user_id),
        "duty_rota": _rota(session, user_id),
        "tickets_requested": [_ticket(t) for t in requested],
        "tickets_assigned": [_ticket(t) for t in assigned],
        "events_by_them": [_event(e) for e in acted],
        "events_naming_them": [_event(e) for e in naming],
        "ratings": [{"council": t.council_id, "ticket": t.ref, "cycle": r.cycle, "score": r.score,
                     "rated_at": r.rated_at.isoformat()} for r, t in ratings],
        "direct_messages": [{"kind": m.kind, "council": m.council_id, "ticket": refs.get(m.ticket_id),
                             "status": m.status, "created_at": m.created_at.isoformat(),
                             "sent_at": _iso(m.sent_at)} for m in messages],
    }


def disclosed_tickets(document: dict) -> dict[str, set[str]]:
    """Ticket ref -> the parts of an export that disclosed something of that ticket."""
    parts: dict[str, set[str]] = defaultdict(set)
    for part, key in (("tickets_requested", "ref"), ("tickets_assigned", "ref"), ("events_by_them", "ticket"),
                      ("events_naming_them", "ticket"), ("ratings", "ticket"), ("direct_messages", "ticket")):
        for item in document[part]:
            if item.get(key):
                parts[item[key]].add(part)
    return parts


def record_export(session: Session, document: dict, *, actor: str, at: datetime,
                  reference: str | None = None) -> int:
    """A `privacy_export` event on every ticket the export disclosed; returns how many were appended."""
    appended = 0
    by_council: dict[str, list[tuple[TicketRow, list[str]]]] = defaultdict(list)
    for ref, parts in sorted(disclosed_tickets(document).items()):
        ticket = queries.get_ticket(session, ref)
        by_council[ticket.council_id].append((ticket, sorted(parts)))
    for council_id, items in sorted(by_council.items()):
        council = queries.get_council(session, council_id, lock=True)
        for ticket, parts in items:
            audit.append_event(session, council=council, ticket=ticket, type=EXPORT_TYPE, actor=actor, at=at,
                               data={"subject": document["subject"], "parts": parts,
                                     **({"reference": reference} if reference else {})})
            appended += 1
    session.flush()
    return appended


@dataclass
class PersonRedaction:
    subject: str
    dry_run: bool
    tickets: list[str] = field(default_factory=list)  # refs whose words of theirs were (or would be) removed
    events: int = 0
    kept_open: list[str] = field(default_factory=list)  # their words stay until the ticket is closed
    legacy_events_kept: int = 0
    inbox_rows: int = 0  # finished Slack requests of theirs, stored before their ack (desk/services/inbox.py)

    def as_dict(self) -> dict:
        return {"subject": self.subject, "dry_run": self.dry_run, "tickets": self.tickets, "events": self.events,
                "kept_open": self.kept_open, "legacy_events_kept": self.legacy_events_kept,
                "inbox_rows": self.inbox_rows}


def _their_tickets(session: Session, user_id: str) -> Iterable[TicketRow]:
    acted_on = select(TicketEventRow.ticket_id).where(TicketEventRow.actor == user_id)
    return session.exec(select(TicketRow).where(or_(TicketRow.requester == user_id,
                                                    col(TicketRow.id).in_(acted_on)))
                        .order_by(TicketRow.council_id, TicketRow.number)).all()


def redact_person(engine: Engine, *, user_id: str, actor: str, now: datetime, dry_run: bool = False,
                  reference: str | None = None) -> PersonRedaction:
    """Remove the person's words from closed tickets, in one transaction, under each council's lock."""
    require_user_id(user_id)
    result = PersonRedaction(user_id, dry_run)
    with unit_of_work(engine) as session:
        tickets = list(_their_tickets(session, user_id))
        for council_id in sorted({t.council_id for t in tickets}):
            council = queries.get_council(session, council_id, lock=not dry_run)
            for ticket in (t for t in tickets if t.council_id == council_id):
                _redact_ticket(session, council, ticket, result, actor=actor, now=now, reference=reference)
        if result.tickets:
            search_index.compact(session)
        result.inbox_rows = inbox.forget_finished(session, mentioning=user_id)
        if dry_run:  # the same path as the real thing, undone: what it would do, exactly
            session.rollback()
    return result


def _redact_ticket(session: Session, council, ticket: TicketRow, result: PersonRedaction, *, actor: str,
                   now: datetime, reference: str | None) -> None:
    user_id = result.subject
    assert ticket.id is not None
    theirs = [e for e in queries.list_ticket_events(session, ticket.id)
              if e.actor == user_id or (e.type == "opened" and ticket.requester == user_id)]
    has_words = any(isinstance(e.data.get(k), str) for e in theirs for k in SEALED_KEYS)
    request_words = ticket.requester == user_id and ticket.title != REDACTED_TITLE
    if ticket.status != str(Status.CLOSED):
        if has_words or request_words:
            result.kept_open.append(ticket.ref)
        return
    redacted: dict[str, list[str]] = {}
    for event in theirs:
        if event.hash_version < 2:
            result.legacy_events_kept += int(any(isinstance(event.data.get(k), str) for k in SEALED_KEYS))
            continue
        data, keys = replace_text(event.data, event.text_salt, "redacted")
        if keys:
            redacted[str(event.seq)] = list(keys)
            event.data, event.text_salt = data, None
            session.add(event)
    fields = ["title", "description"] if request_words else []
    if not redacted and not fields:
        return
    result.tickets.append(ticket.ref)
    result.events += len(redacted)
    if fields:
        ticket.title, ticket.description = REDACTED_TITLE, ""
        session.add(ticket)
    audit.append_event(session, council=council, ticket=ticket, type=REDACTED_TYPE, actor=actor, at=now,
                       data={"events": redacted, "ticket_fields": fields, "subject": user_id,
                             "request": "erasure", **({"reference": reference} if reference else {})})
    session.flush()
    search.index_ticket(session, ticket)  # their words leave the search index in this same transaction
