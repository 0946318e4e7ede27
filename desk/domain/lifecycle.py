"""The ticket status machine (DESIGN.md, Tickets), and the two rules that keep a ticket's story going:
when a resolved ticket closes, and what a message in a ticket's thread does at each status.

No council message is ever dropped: in an open ticket's thread it is a comment, in a resolved ticket's it
reopens the ticket (a new resolve cycle), in a closed ticket's it opens a follow-up. Support's messages
in a thread are public replies while the ticket is open and notes once it is resolved or closed (there is
no respond target left to meet).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol


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
    Status.CLOSED: frozenset(),  # final: a later message opens a linked follow-up instead
}


def can_move(current: Status, wanted: Status) -> bool:
    return wanted in ALLOWED[current]


class WorkingDays(Protocol):
    def end_of_working_days_after(self, at: datetime, days: int) -> datetime: ...


def close_due_at(calendar: WorkingDays, resolved_at: datetime, close_after_days: int) -> datetime:
    """When a ticket resolved at `resolved_at` closes: the end of the `close_after_days`-th working day
    after the (local) day it was resolved on, on the council's calendar. Resolved Wed 2 Dec 2026 15:00,
    5 days, Mon-Thu 09:00-17:00 / Fri 09:00-16:30: Thu, Fri, Mon, Tue, Wed, so Wed 9 Dec 17:00."""
    return calendar.end_of_working_days_after(resolved_at, close_after_days)


class Speaker(StrEnum):
    """Who wrote a message in a ticket's council thread, as far as that ticket is concerned."""

    SUPPORT = "support"  # the support team (engineers, duty lead, service managers)
    COUNCIL = "council"  # a member of the ticket's own council
    OTHER = "other"  # anyone else: another council, a stranger; desk acts on nothing they say


class ThreadEffect(StrEnum):
    REPLY = "reply"  # a public reply: meets the respond target, a new ticket moves to in progress
    COMMENT = "comment"  # the council adds to an open ticket; a waiting ticket goes back to support
    NOTE = "note"  # recorded on the ticket, no SLA effect
    REOPEN = "reopen"  # a new resolve cycle with the full target
    FOLLOW_UP = "follow_up"  # a new ticket linked to the closed one (`follow_up_of`)
    IGNORE = "ignore"


def thread_effect(status: Status, speaker: Speaker) -> ThreadEffect:
    """What a message in a ticket's council thread does, by the ticket's status and who wrote it."""
    if speaker is Speaker.OTHER:
        return ThreadEffect.IGNORE
    if status in OPEN_STATUSES:
        return ThreadEffect.REPLY if speaker is Speaker.SUPPORT else ThreadEffect.COMMENT
    if status is Status.RESOLVED:
        return ThreadEffect.NOTE if speaker is Speaker.SUPPORT else ThreadEffect.REOPEN
    if status is Status.CLOSED:
        return ThreadEffect.NOTE if speaker is Speaker.SUPPORT else ThreadEffect.FOLLOW_UP
    raise ValueError(f"unknown status {status!r}")
