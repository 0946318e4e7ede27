"""Retention: after a council's period, the words people wrote on a closed ticket are redacted.

What goes: the ticket's title and description, and in its events the sealed text fields (titles,
descriptions, replies, comments, notes, resolution notes, reasons) with each event's salt. What stays:
refs, instants, statuses, priorities, actors, SLA clocks and figures, and every event with its hash.

The event log is otherwise never changed, and this change keeps it verifiable: recipe 2 hashes a salted
digest of each text field, not the text (desk/domain/audit.py), so a `{"redacted": digest}` marker
hashes the same as the words did. Each redacted ticket gets a `redacted` event in the chain listing what
was removed, which is also what makes a marker legitimate to `desk audit verify`. Events written before
sealing (recipe 1) hash their words verbatim: their text is kept and counted, never silently broken.

Idempotent: a redacted ticket is marked (`redacted_at`) and never selected again. Work is done council
by council under the council's lock, in batches, one transaction each, so a failure in one council does
not stop the others and two workers never redact the same ticket twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from desk.db import queries, search_index
from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow, TicketRow
from desk.domain.audit import REDACTED_TYPE, SEALED_KEYS, replace_text
from desk.domain.search import REDACTED_TITLE
from desk.services import audit, search

log = logging.getLogger("desk.retention")

ACTOR = "retention"
BATCH = 100


@dataclass
class CouncilRetention:
    council_id: str
    redact_after_days: int
    tickets: list[str] = field(default_factory=list)  # refs redacted (or, on a dry run, that would be)
    events: int = 0  # events whose text was (or would be) redacted
    legacy_events_kept: int = 0  # recipe-1 events whose words cannot be redacted verifiably
    error: str | None = None


@dataclass
class RetentionReport:
    dry_run: bool
    councils: list[CouncilRetention] = field(default_factory=list)

    @property
    def tickets(self) -> int:
        return sum(len(c.tickets) for c in self.councils)

    @property
    def ok(self) -> bool:
        return all(c.error is None for c in self.councils)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "tickets": self.tickets, "councils": [
            {"council": c.council_id, "redact_after_days": c.redact_after_days, "tickets": c.tickets,
             "events": c.events, "legacy_events_kept": c.legacy_events_kept, "error": c.error}
            for c in self.councils]}


def redact_after_days(council: CouncilRow) -> int | None:
    days = (council.retention or {}).get("redact_after_days")
    return days if isinstance(days, int) and days > 0 else None


def _due(session: Session, council_id: str, cutoff: datetime, limit: int | None) -> list[TicketRow]:
    query = (select(TicketRow)
             .where(TicketRow.council_id == council_id, TicketRow.status == "closed",
                    col(TicketRow.redacted_at).is_(None), col(TicketRow.closed_at).is_not(None),
                    col(TicketRow.closed_at) <= cutoff)
             .order_by(TicketRow.number))
    return list(session.exec(query.limit(limit) if limit else query).all())


def redact_ticket(session: Session, council: CouncilRow, ticket: TicketRow, *, days: int, now: datetime,
                  result: CouncilRetention, dry_run: bool = False) -> None:
    """Redact one closed ticket's words. The caller holds the council's lock (`get_council(lock=True)`)."""
    assert ticket.id is not None
    redacted: dict[str, list[str]] = {}
    for event in queries.list_ticket_events(session, ticket.id):
        if event.hash_version < 2:
            result.legacy_events_kept += int(any(isinstance(event.data.get(k), str) for k in SEALED_KEYS))
            continue
        data, keys = replace_text(event.data, event.text_salt, "redacted")
        if not keys:
            continue
        redacted[str(event.seq)] = list(keys)
        if not dry_run:
            event.data, event.text_salt = data, None
            session.add(event)
    result.tickets.append(ticket.ref)
    result.events += len(redacted)
    if dry_run:
        return
    ticket.title, ticket.description, ticket.redacted_at = REDACTED_TITLE, "", now
    session.add(ticket)
    closed_at = ticket.closed_at.isoformat() if ticket.closed_at else None
    audit.append_event(session, council=council, ticket=ticket, type=REDACTED_TYPE, actor=ACTOR, at=now,
                       data={"events": redacted, "ticket_fields": ["title", "description"],
                             "redact_after_days": days, "closed_at": closed_at})
    session.flush()
    search.index_ticket(session, ticket)  # the words leave the search index in this same transaction


def apply_council(session: Session, council_id: str, *, now: datetime, dry_run: bool = False,
                  limit: int | None = BATCH) -> CouncilRetention:
    """One batch for one council: tickets closed for longer than its period (none without a policy)."""
    council = queries.get_council(session, council_id, lock=not dry_run)
    days = redact_after_days(council)
    result = CouncilRetention(council.id, days or 0)
    if days is None:
        return result
    for ticket in _due(session, council.id, now - timedelta(days=days), None if dry_run else limit):
        redact_ticket(session, council, ticket, days=days, now=now, result=result, dry_run=dry_run)
    if result.tickets and not dry_run:
        search_index.compact(session)
    return result


def apply_retention(engine: Engine, *, now: datetime, council_id: str | None = None,
          dry_run: bool = False) -> RetentionReport:
    """Every council with a retention period (or just `council_id`), batch by batch, each its own commit."""
    report = RetentionReport(dry_run)
    with unit_of_work(engine) as session:
        councils = ([queries.get_council(session, council_id)] if council_id
                    else queries.list_councils(session))
        targets = [(c.id, redact_after_days(c)) for c in councils]
    for target, days in targets:
        if days is None and council_id is None:
            continue
        total = CouncilRetention(target, days or 0)
        try:
            while True:
                with unit_of_work(engine) as session:
                    batch = apply_council(session, target, now=now, dry_run=dry_run)
                total.tickets += batch.tickets
                total.events += batch.events
                total.legacy_events_kept += batch.legacy_events_kept
                if dry_run or len(batch.tickets) < BATCH:
                    break
        except Exception as err:  # one council's failure must not stop the others' retention
            log.exception("retention failed for council %s", target)
            total.error = f"{type(err).__name__}: {err}"
        report.councils.append(total)
    return report
