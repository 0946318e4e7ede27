"""Injected failures: what Slack does on a bad day (429s, 5xx, `ok: false`, slowness, dropped sockets).

Two ways to script them:

- a **queue** per method, consumed in the order injected (`FaultQueue.add`), so a test can script "the first
  post is rate limited, the second succeeds" and then assert on exactly what the app did in between;
- **windows** (`FaultQueue.add_window`): for a while (or until ended), every matching call draws a fault
  from a mix: "Slack is having a bad spell". A window can be narrowed to calls whose arguments match
  (`where={"channel": "C…"}`: the bot was removed from one channel, for good), and draws either in turn or
  at random from a seeded generator, so a failing run can be replayed. `Fault()` in a mix is a call that
  goes through normally.

Queued faults come first; then the windows, oldest first.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

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

    @property
    def kind(self) -> str:
        """A short name for reports and assertions: `429`, `500`, `ok:false:internal_error`, `slow`, …"""
        if self.disconnect:
            return "disconnect"
        if self.rate_limited is not None:
            return "429"
        if self.error is not None:
            return f"{self.status}:{self.error}" if self.status else f"ok:false:{self.error}"
        if self.status is not None:
            return str(self.status)
        return "slow" if self.latency > 0 else "none"


@dataclass
class _Queued:
    method: str
    fault: Fault
    remaining: int


@dataclass
class FaultWindow:
    """Faults for a while: every call to `methods` whose arguments match `where` draws one from `faults`.

    Also a context manager that ends the window on exit. `served` counts what was handed out, by
    `Fault.kind`, so a test can check the mix it asked for was actually met.
    """

    methods: frozenset[str]
    faults: tuple[Fault, ...]
    until: float | None  # a `clock()` reading; None: until `end()`
    where: Mapping[str, str]
    seed: int | None
    clock: Callable[[], float]
    served: Counter[str] = field(default_factory=Counter)
    _turn: int = 0
    _ended: bool = False
    _random: random.Random | None = None

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._random = random.Random(self.seed)

    @property
    def active(self) -> bool:
        return not self._ended and (self.until is None or self.clock() < self.until)

    def end(self) -> None:
        """Slack recovers: the window hands out nothing more."""
        self._ended = True

    def matches(self, method: str, args: Mapping[str, Any] | None) -> bool:
        if ANY_METHOD not in self.methods and method not in self.methods:
            return False
        return all(str((args or {}).get(key)) == value for key, value in self.where.items())

    def draw(self) -> Fault:
        """The next fault: in turn, or at random (seeded) when the window has a seed. Callers hold the lock."""
        if self._random is not None:
            fault = self._random.choice(self.faults)
        else:
            fault = self.faults[self._turn % len(self.faults)]
            self._turn += 1
        self.served[fault.kind] += 1
        return fault

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.end()


class FaultQueue:
    """Faults waiting for their call; thread-safe because the stand-in answers calls concurrently."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._queued: list[_Queued] = []
        self._windows: list[FaultWindow] = []
        self._lock = threading.Lock()
        self._clock = clock

    def add(self, method: str, fault: Fault, times: int) -> None:
        """Queue `fault` for the next `times` calls to `method` (after any faults queued before it)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._queued.append(_Queued(method, fault, times))

    def add_window(
        self, methods: str | Iterable[str], faults: Fault | Sequence[Fault], *, seconds: float | None = None,
        where: Mapping[str, str] | None = None, seed: int | None = None,
    ) -> FaultWindow:
        """From now, for `seconds` (None: until `end()`), calls to `methods` ("*": any) matching `where` fail
        with a fault drawn from `faults`: in turn, or at random when `seed` is given."""
        mix = (faults,) if isinstance(faults, Fault) else tuple(faults)
        if not mix:
            raise ValueError("a fault window needs at least one fault")
        if seconds is not None and seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        names = frozenset([methods] if isinstance(methods, str) else methods)
        if not names:
            raise ValueError("a fault window needs at least one method (or '*')")
        until = None if seconds is None else self._clock() + seconds
        window = FaultWindow(names, mix, until, dict(where or {}), seed, self._clock)
        with self._lock:
            self._windows.append(window)
        return window

    def take(self, method: str, args: Mapping[str, Any] | None = None) -> Fault | None:
        """The first queued fault for this method (or for any method), used up one call at a time; else a
        draw from the oldest active window that matches the call."""
        with self._lock:
            for queued in self._queued:
                if queued.method in (method, ANY_METHOD):
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._queued.remove(queued)
                    return queued.fault
            self._windows = [window for window in self._windows if window.active]
            for window in self._windows:
                if window.matches(method, args):
                    return window.draw()
        return None

    def clear(self) -> None:
        """Forget queued faults and end every window."""
        with self._lock:
            self._queued.clear()
            for window in self._windows:
                window.end()
            self._windows.clear()

    def pending(self) -> list[tuple[str, Fault, int]]:
        """What is still waiting, so a test can assert its scripted faults were all consumed."""
        with self._lock:
            return [(queued.method, queued.fault, queued.remaining) for queued in self._queued]

    def windows(self) -> list[FaultWindow]:
        """Windows still active."""
        with self._lock:
            return [window for window in self._windows if window.active]
