"""What the services need from the outside world, as protocols the adapters implement.

The dispatcher (a service) hands each outbox row to a `Notifier`; the Slack adapter implements it. Services
never import Slack: they know only this port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlmodel import Session

if TYPE_CHECKING:
    from desk.db.tables import CouncilRow, SlaClockRow, TicketRow
    from desk.domain.sla import TicketSla


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    kind: str  # "escalation", "digest", "managers_digest", "alert"
    council_id: str | None
    ticket_id: int | None
    target: str | None
    payload: dict
    attempts: int


@dataclass(frozen=True)
class TicketReads:
    """What the dispatcher read of the tickets of rows about to be posted, in the transaction it hands to
    `BatchNotifier.prepare`: tickets by id and the clock rows of the open ones by ticket id (both plain rows
    with their tables' columns, to read only), their councils; and, by ticket id, the SLA the staleness
    check worked out from those rows (not worked out again to render the same rows' escalations)."""

    tickets: dict[int, TicketRow]
    clocks: dict[int, list[SlaClockRow]]
    councils: dict[str, CouncilRow]
    slas: dict[int, TicketSla] = field(default_factory=dict)


class DeliveryFailed(Exception):
    """A notification that did not go out. `permanent` failures are not retried; `retry_after` (seconds)
    is Slack's own word on when to try again (a 429)."""

    def __init__(self, code: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(code)
        self.code, self.permanent, self.retry_after = code, permanent, retry_after


class Notifier(Protocol):
    def deliver(self, item: OutboxItem) -> str | None:
        """Post one notification; return the Slack ts of the (first) message, or raise DeliveryFailed."""
        ...


@runtime_checkable
class BatchNotifier(Notifier, Protocol):
    def prepare(self, session: Session, items: Sequence[OutboxItem], reads: TicketReads) -> None:
        """The dispatcher is about to deliver these one after the other: read what rendering them needs
        together now, once, rather than once per `deliver`, in `session` (the dispatcher's transaction that
        has just renewed and checked them, and read `reads` for it; read only, nothing read twice).
        Optional; `deliver` must work without it."""
        ...
