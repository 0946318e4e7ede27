"""What the services need from the outside world, as protocols the adapters implement.

The dispatcher (a service) hands each outbox row to a `Notifier`; the Slack adapter implements it. Services
never import Slack: they know only this port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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
    def prepare(self, items: Sequence[OutboxItem]) -> None:
        """The dispatcher is about to deliver these one after the other: read what rendering them needs
        together now, once, rather than once per `deliver`. Optional; `deliver` must work without it."""
        ...
