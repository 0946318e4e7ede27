"""Whether an outbox row still makes sense just before it is posted (the dispatcher cancels it if not).

An escalation whose clock stopped or paused since it was written, a resolution message for a ticket
reopened before Slack took it, a reopening notice for a ticket resolved again: each is `cancelled`, not sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select as sa_select
from sqlmodel import Session

from desk.db import queries
from desk.db.tables import TicketRow
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.playbook import Metric
from desk.services import sla_state
from desk.services.ports import OutboxItem, TicketReads

_TICKETS = TicketRow.__table__


def stale(session: Session, item: OutboxItem) -> str | None:
    """Why an escalation no longer makes sense (its clock stopped or paused since it was written), a
    resolution message (the ticket was reopened before Slack took it), or a reopening notice (the ticket
    was resolved again)."""
    return stale_many(session, [item]).get(item.id)


def read_tickets(session: Session, items: Sequence[OutboxItem]) -> TicketReads:
    """The rows' tickets, the clock rows of those open, their councils: each table read once. Tickets and
    clocks as plain Core rows with their tables' columns: they are only read (to check, then to render),
    never changed or written back, so no objects are built or tracked for them."""
    ids = {item.ticket_id for item in items if item.ticket_id is not None}
    tickets = {t.id: t for t in session.execute(sa_select(*_TICKETS.c).where(_TICKETS.c.id.in_(ids))).all()} if ids else {}
    running = [t.id for t in tickets.values() if t.status in OPEN_STATUSES]
    clocks = sla_state.clocks_of(session, [i for i in running if i is not None], plain=True)  # only read
    councils = queries.councils_by_id(session, {t.council_id for t in tickets.values()}) if tickets else {}
    return TicketReads(tickets, clocks, councils)  # type: ignore[arg-type]  # ids are set on read rows


def stale_many(session: Session, items: Sequence[OutboxItem], reads: TicketReads | None = None) -> dict[int, str]:
    """`stale` for several rows, by row id (only those that are), from their tickets read together
    (`reads`, when the caller has read them with `read_tickets` in this transaction)."""
    reads = reads if reads is not None else read_tickets(session, items)
    reasons = {}
    for item in items:
        ticket = reads.tickets.get(item.ticket_id) if item.ticket_id is not None else None
        reason = None
        if item.kind == "resolution" and item.ticket_id is not None:
            reason = None if ticket is not None and ticket.status not in OPEN_STATUSES else "the ticket was reopened"
        elif item.kind == "reopened" and item.ticket_id is not None:  # desk/slack/lifecycle_posts.py
            reason = None if ticket is not None and ticket.status in OPEN_STATUSES else "the ticket was resolved again"
        elif item.kind == "escalation" and item.ticket_id is not None:
            reason = _escalation_stale(session, item, ticket, reads)
        if reason:
            reasons[item.id] = reason
    return reasons


def _escalation_stale(session: Session, item: OutboxItem, ticket: TicketRow | None, reads: TicketReads) -> str | None:
    if ticket is None or ticket.status not in OPEN_STATUSES or ticket.id is None:
        return "the ticket is no longer open"
    sla = reads.slas.get(ticket.id)
    if sla is None:
        policy = sla_state.policy_for(session, ticket, reads.councils.get(ticket.council_id))
        sla = reads.slas[ticket.id] = sla_state.of_rows(ticket, policy, reads.clocks[ticket.id])
    metric, cycle = Metric(item.payload["metric"]), int(item.payload["cycle"])
    if not sla.run(metric, cycle).running:
        return f"the {metric} clock is no longer running"
    return None
