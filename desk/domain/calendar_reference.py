"""A deliberately simple business calendar: the test oracle and the benchmark baseline.

It walks local days one at a time, converting each day's windows to UTC with plain datetime arithmetic
and nothing cached but the bank-holiday lists. It is easy to check by reading, and slow in proportion
to the span it walks. `calendar.BusinessCalendar` must give identical answers (property tests check it)
while staying flat in cost (`bench/bench_calendar.py` measures both in one run). Do not use it in
production code, and do not optimise it: its value is being obviously right.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from desk.domain.calendar import division_holidays
from desk.domain.playbook import CalendarSpec

ONE_SECOND = timedelta(seconds=1)
ONE_DAY = timedelta(days=1)
IDLE_DAYS_LIMIT = 3660  # about ten years without a working second: the calendar has no work at all


def _utc(at: datetime, name: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
    return at.replace(microsecond=0).astimezone(UTC)


class ReferenceCalendar:
    """Same interface and semantics as `calendar.BusinessCalendar`, computed by walking days."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)

    def add(self, start: datetime, seconds: int) -> datetime:
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise ValueError(f"seconds must be a non-negative int, got {seconds!r}")
        at = _utc(start, "start")
        if seconds == 0:
            return at
        remaining = seconds
        for window_start, window_end in self._intervals_from(self._local_date(at) - ONE_DAY):
            open_at = max(window_start, at)
            if window_end <= open_at:
                continue
            available = int((window_end - open_at) / ONE_SECOND)
            if remaining <= available:
                return open_at + timedelta(seconds=remaining)
            remaining -= available
        raise AssertionError("unreachable: _intervals_from raises when it runs dry")

    def between(self, start: datetime, end: datetime) -> int:
        low, high = _utc(start, "start"), _utc(end, "end")
        if high <= low:
            return 0
        total = 0
        day = self._local_date(low) - ONE_DAY
        while day <= self._local_date(high) + ONE_DAY:
            for window_start, window_end in self._day_intervals(day):
                overlap = min(window_end, high) - max(window_start, low)
                if overlap > timedelta(0):
                    total += int(overlap / ONE_SECOND)
            day += ONE_DAY
        return total

    def next_working(self, at: datetime) -> datetime:
        instant = _utc(at, "at")
        for window_start, window_end in self._intervals_from(self._local_date(instant) - ONE_DAY):
            if window_end > instant:
                return max(window_start, instant)
        raise AssertionError("unreachable: _intervals_from raises when it runs dry")

    def is_working(self, at: datetime) -> bool:
        instant = _utc(at, "at")
        day = self._local_date(instant)
        return any(
            window_start <= instant < window_end
            for offset in (-1, 0, 1)
            for window_start, window_end in self._day_intervals(day + offset * ONE_DAY)
        )

    def end_of_working_days_after(self, at: datetime, days: int) -> datetime:
        """Walk local dates after `at`'s, counting those with a window; the end of the last window of the
        `days`-th."""
        day, counted = self._local_date(_utc(at, "at")), 0
        for _ in range(IDLE_DAYS_LIMIT):
            day += ONE_DAY
            intervals = self._day_intervals(day)
            if intervals:
                counted += 1
                if counted == days:
                    return intervals[-1][1]
        raise ValueError(f"calendar {self.spec.timezone}/{self.spec.division} has no working day")

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _intervals_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Every working interval from local `day` on, in order; raises after ten idle years."""
        idle_days = 0
        while idle_days < IDLE_DAYS_LIMIT:
            intervals = self._day_intervals(day)
            idle_days = 0 if intervals else idle_days + 1
            yield from intervals
            day += ONE_DAY
        raise ValueError(f"calendar {self.spec.timezone}/{self.spec.division} has no working time")

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """One local day's windows as UTC intervals; none on a closure or bank holiday."""
        if day in self.spec.closures or day in division_holidays(self.spec.division, day.year):
            return []
        intervals: list[tuple[datetime, datetime]] = []
        for window in self.spec.hours[day.weekday()]:
            start = self._instant(day, window.start)
            end = self._instant(day, window.end)
            if intervals:
                start = max(start, intervals[-1][1])
            if end > start:
                intervals.append((start, end))
        return intervals

    def _instant(self, day: date, second: int) -> datetime:
        """The first instant the local clock reads at least this wall time (see calendar.wall_to_epoch)."""
        wall = datetime.combine(day, time()) + timedelta(seconds=second)
        first = wall.replace(tzinfo=self.zone).astimezone(UTC)
        if first.astimezone(self.zone).replace(tzinfo=None) == wall:
            return first
        # The wall time is skipped by a spring-forward jump: step a second at a time to the jump.
        probe = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        while probe.astimezone(self.zone).replace(tzinfo=None) < wall:
            probe += ONE_SECOND
        return probe
