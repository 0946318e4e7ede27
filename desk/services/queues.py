"""The lists people work from: support queues and a council's own open tickets.

Every list is sorted by the next SLA due (a breached target is the most overdue, so it leads) in the
database, before it is cut: an urgent ticket never falls off the end of a queue sorted some other way.
Each queue also says how many tickets it holds in all, so a view that shows the first few can say how many
more there are, and `/desk list QUEUE` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from desk.db import queries
from desk.domain.lifecycle import OPEN_STATUSES, Status
from desk.errors import InvalidInput
from desk.services.read_models import TicketSummary, summarize

OPEN = tuple(str(s) for s in OPEN_STATUSES)
QUEUE_LIMIT = 15


class QueueName(StrEnum):
    """Support's queues; the value is what follows `/desk list`."""

    BREACHING = "breaching"  # every open ticket with a target running, soonest due first
    UNASSIGNED = "unassigned"
    MINE = "mine"
    WAITING = "waiting"  # waiting on the council


@dataclass(frozen=True)
class Queue:
    tickets: list[TicketSummary]  # the first ones, soonest due first
    total: int  # how many the queue holds in all


def _filters(name: QueueName, user: str) -> dict:
    if name is QueueName.BREACHING:
        return {"running_only": True}
    if name is QueueName.UNASSIGNED:
        return {"unassigned": True}
    if name is QueueName.MINE:
        return {"assignee": user}
    if name is QueueName.WAITING:
        return {"status": str(Status.WAITING_ON_COUNCIL)}
    raise ValueError(f"unknown queue {name!r}")


def queue(session: Session, name: QueueName, *, user: str, now: datetime, limit: int = QUEUE_LIMIT,
          council_id: str | None = None) -> Queue:
    filters = {**_filters(name, user), "council_id": council_id}
    rows = queries.list_open_tickets_by_due(session, limit=limit, **{"running_only": False, **filters})
    return Queue([summarize(session, t, now) for t in rows], queries.count_open_tickets(session, **filters))


def support_queues(session: Session, *, user: str, now: datetime) -> dict[str, Queue]:
    return {str(name): queue(session, name, user=user, now=now) for name in QueueName}


def council_tickets(session: Session, *, council_id: str, now: datetime, limit: int = 40) -> list[TicketSummary]:
    """A council's open tickets, soonest due first. Scoped by council id: nothing of any other council."""
    rows = queries.list_open_tickets_by_due(session, limit=limit, running_only=False, council_id=council_id)
    return [summarize(session, t, now) for t in rows]


def council_total(session: Session, *, council_id: str) -> int:
    return queries.count_open_tickets(session, council_id=council_id)


def open_tickets(session: Session, *, now: datetime, limit: int = 40) -> list[TicketSummary]:
    """Every council's open tickets, soonest due first: support staff only."""
    rows = queries.list_open_tickets_by_due(session, limit=limit, running_only=False)
    return [summarize(session, t, now) for t in rows]


QUEUE_HEADINGS = {QueueName.BREACHING: "Open tickets with a target running", QueueName.UNASSIGNED: "Unassigned",
                  QueueName.MINE: "Yours", QueueName.WAITING: "Waiting on council"}


def parse_list(session: Session, words: list[str]) -> tuple[QueueName, str | None]:
    """`/desk list QUEUE [COUNCIL]` (support): which queue, and optionally which council (id or ref prefix)."""
    try:
        name = QueueName(words[0].lower())
    except ValueError:
        raise InvalidInput(f"{words[0]!r} is not a queue: use one of {', '.join(QueueName)}") from None
    if len(words) < 2:
        return name, None
    wanted = words[1].lower()
    for council in queries.list_councils(session):
        if wanted in (council.id.lower(), council.ref_prefix.lower()):
            return name, council.id
    raise InvalidInput(f"no council {words[1]!r} (use its id or its ticket prefix, e.g. CHW)")


def describe(name: QueueName, council_id: str | None) -> str:
    return QUEUE_HEADINGS[name] + (f" · {council_id}" if council_id else "")
