"""The lists people work from: support queues and a council's own open tickets."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.domain.lifecycle import OPEN_STATUSES
from desk.services.read_models import TicketSummary, summarize

OPEN = tuple(str(s) for s in OPEN_STATUSES)
QUEUE_LIMIT = 15


def support_queues(session: Session, *, user: str, now: datetime) -> dict[str, list[TicketSummary]]:
    def summaries(rows) -> list[TicketSummary]:
        return [summarize(session, t, now) for t in rows]

    return {
        "breaching": summaries(queries.list_open_tickets_by_due(session, limit=QUEUE_LIMIT)),
        "unassigned": summaries(queries.list_tickets(session, statuses=OPEN, unassigned=True, limit=QUEUE_LIMIT)),
        "mine": summaries(queries.list_tickets(session, statuses=OPEN, assignee=user, limit=QUEUE_LIMIT)),
        "waiting": summaries(queries.list_tickets(session, status="waiting_on_council", limit=QUEUE_LIMIT)),
    }


def council_tickets(session: Session, *, council_id: str, now: datetime, limit: int = 40) -> list[TicketSummary]:
    """A council's open tickets, soonest due first. Scoped by council id: nothing of any other council."""
    rows = queries.list_tickets(session, council_id=council_id, statuses=OPEN, limit=limit)
    summaries = [summarize(session, t, now) for t in rows]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(summaries, key=lambda t: t.next_due_at or far)


def open_tickets(session: Session, *, now: datetime, limit: int = 40) -> list[TicketSummary]:
    """Every council's open tickets, soonest due first: support staff only."""
    return [summarize(session, t, now) for t in queries.list_open_tickets_by_due(session, limit=limit)]
