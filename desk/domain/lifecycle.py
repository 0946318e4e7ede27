"""The ticket status machine (DESIGN.md, Tickets)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_COUNCIL = "waiting_on_council"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING_ON_COUNCIL})

# Which status may follow which. Resolving and reopening are their own services (they carry a note and
# start or stop SLA cycles) but they are still transitions of this one machine.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.WAITING_ON_COUNCIL, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING_ON_COUNCIL, Status.RESOLVED}),
    Status.WAITING_ON_COUNCIL: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.CLOSED}),  # in_progress = reopen
    Status.CLOSED: frozenset(),  # a later message opens a linked follow-up instead
}


def can_move(current: Status, wanted: Status) -> bool:
    return wanted in ALLOWED[current]
