"""What the stand-in saw: every call with its arguments and answer, and every refusal as a violation.

Kept apart from the HTTP serving so tests read one small, thread-safe record: the app calls Slack from
Bolt's worker threads after it acks, so a test waits on this log rather than sleeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from desk.sandbox.faults import Fault


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered (or dropped). `status` 0 means the connection was dropped."""

    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float
    fault: Fault | None = None
    token: str | None = None

    @property
    def ok(self) -> bool:
        """Answered 200, and (for the Web API, whose answers carry it) with `ok: true`."""
        return self.status == 200 and self.response.get("ok", True) is True


class CallLog:
    """Calls in arrival order and the violations they raised; readers get snapshots."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._violations: list[str] = []
        self._changed = threading.Condition()

    def record(self, call: Call, violations: list[str]) -> None:
        with self._changed:
            self._calls.append(call)
            self._violations.extend(violations)
            self._changed.notify_all()

    @property
    def calls(self) -> list[Call]:
        with self._changed:
            return list(self._calls)

    @property
    def violations(self) -> list[str]:
        with self._changed:
            return list(self._violations)

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self._calls if call.method == method]

    def last(self, method: str) -> Call:
        found = self.calls_to(method)
        if not found:
            raise AssertionError(f"no call to {method}; calls so far: {self.summary()}")
        return found[-1]

    def wait_for(self, method: str, count: int, timeout: float) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self._calls if call.method == method]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
        if len(found) < count:
            raise AssertionError(f"waited {timeout}s for {count} call(s) to {method}, got {len(found)}; "
                                 f"calls: {self.summary()}")
        return found

    def clear(self) -> None:
        with self._changed:
            self._calls.clear()
            self._violations.clear()

    def summary(self) -> str:
        """The methods called so far, for assertion messages."""
        return ", ".join(call.method for call in self.calls) or "none"
