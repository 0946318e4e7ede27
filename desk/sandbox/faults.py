"""Injected failures: what Slack does on a bad day (429s, 5xx, `ok: false`, slowness, dropped sockets).

Faults queue per method and are consumed in the order they were injected, so a test can script "the first
post is rate limited, the second succeeds" and then assert on exactly what the app did in between.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

ANY_METHOD = "*"


@dataclass(frozen=True)
class Fault:
    """One failure for one call. `latency` delays whatever the answer is; the other fields replace it."""

    rate_limited: float | None = None
    error: str | None = None
    status: int | None = None
    latency: float = 0.0
    disconnect: bool = False

    @property
    def retry_after(self) -> str:
        """Whole seconds: Slack sends an integer and slack_sdk `int()`-parses it, so 0.5 would crash it."""
        return str(math.ceil(self.rate_limited or 0))

    @property
    def replaces_answer(self) -> bool:
        replacing = (self.rate_limited, self.error, self.status)
        return self.disconnect or any(value is not None for value in replacing)


@dataclass
class _Queued:
    method: str
    fault: Fault
    remaining: int


class FaultQueue:
    """Faults waiting for their call; thread-safe because the stand-in answers calls concurrently."""

    def __init__(self) -> None:
        self._queued: list[_Queued] = []
        self._lock = threading.Lock()

    def add(self, method: str, fault: Fault, times: int) -> None:
        """Queue `fault` for the next `times` calls to `method` (after any faults queued before it)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._queued.append(_Queued(method, fault, times))

    def take(self, method: str) -> Fault | None:
        """The first queued fault for this method (or for any method), used up one call at a time."""
        with self._lock:
            for queued in self._queued:
                if queued.method in (method, ANY_METHOD):
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._queued.remove(queued)
                    return queued.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()

    def pending(self) -> list[tuple[str, Fault, int]]:
        """What is still waiting, so a test can assert its scripted faults were all consumed."""
        with self._lock:
            return [(queued.method, queued.fault, queued.remaining) for queued in self._queued]
