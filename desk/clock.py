"""The one module that reads the wall clock. Everything else takes `now` or a `Clock`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """UTC, whole seconds: SLA instants are exact to the second."""

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)


system_clock = SystemClock()


def wall_seconds() -> float:
    """Seconds since the epoch, unrounded: Slack stamps its signed requests with its own wall time, so the
    five-minute window of a request signature is measured against this, not against a desk `Clock`."""
    import time

    return time.time()
