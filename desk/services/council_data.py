"""One council's data as plain records: what `desk export` writes and the API returns.

Every function takes the council and every query filters on it: a council-facing path cannot reach
another council's rows by forgetting a filter. Internal notes (`noted` events) are support's own and
never reach a council (DESIGN.md, Threads), so they are left out here; the auditors' export
(`audit_export.py`) keeps them in the chain with their words withheld.

SLA figures are the engine's, replayed from the ticket's history as of `now`: the same implementation
as `desk tickets show` and `desk sla replay`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import TicketEventRow, TicketRow
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.sla import MetricRun, TicketSla
from desk.domain.sla_replay import Replay, replay, report
from desk.services import sla_state
from desk.services.problem_views import problem_for_ticket

INTERNAL_EVENT_TYPES = ("noted",)
PAGE_MAX = 200


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@dataclass(frozen=True)
class TicketFilter:
    """Which of a council's tickets: keyset pagination on the ticket number, newest filters last."""

    status: str | None = None
    open_only: bool = False
    opened_from: datetime | None = None  # inclusive
    opened_before: datetime | None = None  # exclusive
    after_number: int = 0


def list_council_tickets(session: Session, council_id: str, where: TicketFilter,
                         limit: int) -> tuple[Sequence[TicketRow], int | None]:
    """Up to `limit` tickets after `where.after_number`, and the number to continue after (or None)."""
    query = select(TicketRow).where(TicketRow.council_id == council_id, TicketRow.number > where.after_number)
    if where.status is not None:
        query = query.where(TicketRow.status == where.status)
    if where.open_only:
        query = query.where(col(TicketRow.status).in_([str(s) for s in OPEN_STATUSES]))
    if where.opened_from is not None:
        query = query.where(TicketRow.opened_at >= where.opened_from)
    if where.opened_before is not None:
        query = query.where(TicketRow.opened_at < where.opened_before)
    rows = session.exec(query.order_by(TicketRow.number).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].number if len(rows) > limit else None)


def ticket_record(session: Session, ticket: TicketRow) -> dict:
    """A ticket's fields (the `desk tickets list --json` shape, and more)."""
    follow_up = session.get(TicketRow, ticket.follow_up_of) if ticket.follow_up_of else None
    return {
        "ref": ticket.ref, "council": ticket.council_id, "status": ticket.status, "priority": ticket.priority,
        "category": ticket.category, "title": ticket.title, "requester": ticket.requester,
        "assignee": ticket.assignee, "opened_at": _iso(ticket.opened_at),
        "description": ticket.description, "impact": ticket.impact, "urgency": ticket.urgency,
        "updated_at": _iso(ticket.updated_at), "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at), "redacted_at": _iso(ticket.redacted_at),
        "follow_up_of": follow_up.ref if follow_up and follow_up.council_id == ticket.council_id else None,
        "problem": _problem(session, ticket),
    }


def _problem(session: Session, ticket: TicketRow) -> dict | None:
    """The shared problem the ticket is linked to: its ref, summary and status, which is all a council
    may read of it (never the problem's title, its other tickets or their councils)."""
    found = problem_for_ticket(session, ticket)
    return found.as_json() if found else None


def event_record(event: TicketEventRow) -> dict:
    return {"seq": event.seq, "ticket": event.ticket_ref, "at": _iso(event.at), "type": event.type,
            "actor": event.actor, "data": event.data, "hash": event.hash}


def council_events(events: Sequence[TicketEventRow]) -> list[TicketEventRow]:
    return [event for event in events if event.type not in INTERNAL_EVENT_TYPES]


def replay_ticket(session: Session, ticket: TicketRow, events: Sequence[TicketEventRow],
                  now: datetime) -> Replay:
    """The ticket's SLA as the engine computes it from the full history (notes included: they are inert)."""
    policy = sla_state.policy_for(session, ticket)
    history = sla_state.replay_events(events)
    return replay(policy, history, max(now, history[-1].at))


def sla_cycle_records(ticket: TicketRow, result: Replay) -> list[dict]:
    """One record per metric run (respond, then each resolve cycle) as of the replay's instant."""
    sla, as_of = result.sla, result.as_of
    return [_run_record(ticket, sla, run, as_of) for run in (sla.respond, *sla.resolve_cycles)]


def _run_record(ticket: TicketRow, sla: TicketSla, run: MetricRun, as_of: datetime) -> dict:
    paused_seconds = run.paused_seconds
    if run.paused_at is not None:
        paused_seconds += sla.policy.clocks[run.clock].between(run.paused_at, as_of)
    breached_at = run.breached_as_of(as_of)
    return {
        "ticket": ticket.ref, "metric": str(run.metric), "cycle": run.cycle, "clock": str(run.clock),
        "target_seconds": run.target, "started_at": _iso(run.started_at), "due_at": _iso(run.due_at),
        "stopped_at": _iso(run.stopped_at), "paused": run.paused, "paused_seconds": paused_seconds,
        "met": run.stopped_at is not None and breached_at is None,
        "breached": breached_at is not None, "breached_at": _iso(breached_at),
    }


def ticket_detail(session: Session, ticket: TicketRow, now: datetime) -> dict:
    """One ticket with its (council-visible) history and its SLA replayed as of now."""
    assert ticket.id is not None
    events = queries.list_ticket_events(session, ticket.id)
    result = replay_ticket(session, ticket, events, now)
    return {**ticket_record(session, ticket), "sla": report(result),
            "events": [event_record(e) for e in council_events(events)]}


def ticket_sla(session: Session, ticket: TicketRow, now: datetime) -> dict:
    assert ticket.id is not None
    result = replay_ticket(session, ticket, queries.list_ticket_events(session, ticket.id), now)
    return {"ref": ticket.ref, "status": ticket.status, "priority": ticket.priority,
            "opened_at": _iso(ticket.opened_at), "sla": report(result), "problem": _problem(session, ticket)}


def export_records(session: Session, council_id: str, now: datetime) -> Iterator[dict]:
    """Every ticket of the council, each followed by its events and its SLA cycles, oldest ticket first."""
    queries.get_council(session, council_id)
    after = 0
    while True:
        where = TicketFilter(after_number=after)
        page, after_next = list_council_tickets(session, council_id, where, PAGE_MAX)
        for ticket in page:
            assert ticket.id is not None
            events = queries.list_ticket_events(session, ticket.id)
            yield {"record": "ticket", **ticket_record(session, ticket)}
            for event in council_events(events):
                yield {"record": "event", **event_record(event)}
            for cycle in sla_cycle_records(ticket, replay_ticket(session, ticket, events, now)):
                yield {"record": "sla_cycle", **cycle}
        if after_next is None:
            return
        after = after_next
