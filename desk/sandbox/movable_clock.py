"""The sandbox's "now": the wall clock plus however far people have jumped.

desk takes its business clock as an argument (anything with `now()`), so the sandbox hands desk this one
and moves it; Slack's own clock (message `ts`, request signatures, which Bolt checks against the real
time) keeps the wall time. Jumps only go forward from the sandbox's now, or `to` an instant (the demo
rewinds to build its history, then catches up).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from desk.sandbox.ids import wall_time

LONDON = ZoneInfo("Europe/London")
STEP = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$")
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WORKING_MORNING = 9  # o'clock, UK time


class ClockError(ValueError):
    """A jump the clock cannot make; the message says which and why."""


def parse_step(text: str) -> timedelta:
    """`15m`, `1h`, `2d`, `1w` as a duration."""
    match = STEP.match(str(text))
    if not match:
        raise ClockError(f"advance {text!r} is not a duration like 15m, 1h, 2d or 1w")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def next_working_morning(after: datetime) -> datetime:
    """09:00 UK time on the next weekday after `after` (bank holidays are desk's business, not Slack's)."""
    local = after.astimezone(LONDON)
    day = local.date() + timedelta(days=1)
    if local.hour < WORKING_MORNING and local.weekday() < 5:
        day = local.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, WORKING_MORNING, tzinfo=LONDON).astimezone(UTC)


class MovableClock:
    """A clock desk can read (`now()`, aware UTC, whole seconds) and the sandbox can move."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self._history: list[tuple[float, timedelta]] = [(0.0, timedelta(0))]  # (from wall time, offset)

    def now(self) -> datetime:
        real = datetime.fromtimestamp(wall_time(), UTC)
        with self._lock:
            return (real + self._offset).replace(microsecond=0)

    def advance(self, step: timedelta) -> datetime:
        if step < timedelta(0):
            raise ClockError("the clock only moves forward; use `to` to set an instant")
        with self._lock:
            self._move(self._offset + step)
        return self.now()

    def set(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ClockError(f"{at.isoformat()} has no timezone: give one, e.g. 2026-01-05T09:00:00Z")
        with self._lock:
            self._move(at - datetime.fromtimestamp(wall_time(), UTC))
        return self.now()

    def _move(self, offset: timedelta) -> None:
        self._offset = offset
        self._history.append((wall_time(), offset))

    def at_wall(self, seconds: float) -> datetime:
        """The sandbox's time when the wall clock read `seconds` (a message's ts): what people saw then."""
        with self._lock:
            offset = next(o for since, o in reversed(self._history) if since <= seconds)
        return (datetime.fromtimestamp(seconds, UTC) + offset).replace(microsecond=0)

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset
