"""Closing resolved tickets: by the worker when they fall due, or by hand (`desk tickets close REF`).

A resolved ticket carries `close_due_at` (DESIGN.md, the closing contract; computed when it is resolved,
cleared when it reopens or closes). The closing pass selects what is due through that column's partial
index, never a scan of resolved tickets, so it costs what is due, not what is open.

Per ticket, in one savepoint: the close, its `closed` event on the council's chain, and one outbox row
(`closed:<ticket id>`) that the dispatcher turns into the council's "closed" message, the resolution
message without its "Not fixed" button, and an updated triage card. A failure on one ticket is logged and
left for the next pass; the others carry on.

Two workers: candidate tickets are claimed with `FOR UPDATE SKIP LOCKED`, and the council row is taken
without waiting (`SKIP LOCKED` too): a council someone is changing right now is left for the next pass,
a minute later, so the worker never waits on a lock while holding one (no deadlock with a listener, which
locks the council first). Each ticket is re-read under the lock and closed only if it is still resolved
and due, so a pass that runs twice, late, or beside another closes each ticket once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import CouncilRow, OutboxRow, TicketRow
from desk.domain.lifecycle import Status
from desk.observability import logs
from desk.services import tickets

log = logging.getLogger("desk.closing")

BATCH = 100
ACTOR = "desk"  # the worker closing a ticket on its due date
CLOSED = "closed"  # outbox kind: tell the council thread, retire the "Not fixed" button, refresh the card


@dataclass
class CloseReport:
    closed: list[str] = field(default_factory=list)  # refs closed in this pass
    skipped: list[str] = field(default_factory=list)  # refs left for the next pass (busy or failed)
    scheduled: int = 0  # resolved tickets from before close_due_at existed, given theirs
    claimed: int = 0  # candidates claimed: fewer than the batch means nothing else was due


def close(session: Session, *, ref: str, actor: str, at: datetime) -> TicketRow:
    """Close one resolved ticket now (by hand), and tell the council through the outbox."""
    ticket = tickets.close(session, ref=ref, actor=actor, at=at)
    _tell(session, ticket, at)
    return ticket


def next_close_at(session: Session) -> datetime | None:
    """The earliest instant a resolved ticket falls due to close (None: nothing is waiting)."""
    return session.exec(select(func.min(TicketRow.close_due_at))).one()


def close_due(session: Session, *, now: datetime, batch: int = BATCH) -> CloseReport:
    """One batch of the closing pass: resolved tickets due to close by `now`."""
    report = CloseReport(scheduled=schedule_missing(session, batch=batch))
    ids = list(session.exec(
        select(TicketRow.id)
        .where(col(TicketRow.close_due_at).is_not(None), col(TicketRow.close_due_at) <= now)
        .order_by(TicketRow.close_due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all())
    report.claimed = len(ids)
    for ticket_id in ids:
        ticket = session.get(TicketRow, ticket_id)
        ref = ticket.ref if ticket else str(ticket_id)
        with logs.bind(ticket=ref):
            nested = session.begin_nested()
            try:
                closed = _close_one(session, ticket_id, now)
            except Exception:
                nested.rollback()
                log.exception("closing %s failed; it will be retried", ref)
                report.skipped.append(ref)
                continue
            nested.commit()
            if closed is False:
                report.skipped.append(ref)
            elif closed:
                report.closed.append(ref)
    session.flush()
    return report


def _close_one(session: Session, ticket_id: int, now: datetime) -> bool | None:
    """Close the ticket if it is still resolved and due: True; False when its council is busy (the next
    pass takes it); None when there is nothing to close after all (another worker was first)."""
    ticket = session.get(TicketRow, ticket_id)
    if ticket is None:
        return None
    council = session.exec(
        select(CouncilRow).where(CouncilRow.id == ticket.council_id).with_for_update(skip_locked=True)
    ).first()
    if council is None:
        return False
    session.refresh(ticket)
    if ticket.status != Status.RESOLVED:
        if ticket.close_due_at is not None:  # a stale mark: never selected again
            ticket.close_due_at = None
            session.add(ticket)
        return None
    if ticket.close_due_at is None or ticket.close_due_at > now:
        return None
    due = ticket.close_due_at
    close(session, ref=ticket.ref, actor=ACTOR, at=now)
    log.info("closed by the worker (due %s)", due.isoformat())
    return True


def schedule_missing(session: Session, *, batch: int = BATCH) -> int:
    """Give resolved tickets that have no close instant (resolved before desk closed tickets) theirs.
    Nothing to do, and one cheap query, once they have."""
    found = session.exec(
        select(TicketRow)
        .where(TicketRow.status == str(Status.RESOLVED), col(TicketRow.close_due_at).is_(None),
               col(TicketRow.resolved_at).is_not(None))
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in found:
        ticket.close_due_at = tickets.close_due_at_for(session, ticket, queries.get_council(session, ticket.council_id))
        session.add(ticket)
    session.flush()
    return len(found)


def _tell(session: Session, ticket: TicketRow, at: datetime) -> None:
    """One outbox row for everything Slack should show about the close (nothing to post: no row)."""
    target = ticket.slack_channel if ticket.slack_ts else ticket.card_channel
    if target is None:
        return
    key = f"{CLOSED}:{ticket.id}"
    if session.exec(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).first() is not None:
        return
    session.add(OutboxRow(idempotency_key=key, kind=CLOSED, council_id=ticket.council_id, ticket_id=ticket.id,
                          target=target, created_at=at, available_at=at, payload={"ref": ticket.ref}))
    session.flush()
