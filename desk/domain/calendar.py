"""Business time: how many working seconds lie between two instants, and when N of them run out.

SLA targets are counted on a clock (see DESIGN.md, "SLA semantics"): real time for 24x7 targets, or the
council's working windows for business targets. Deadlines are recomputed on every sweep, pause and priority
change, so the business clock must cost the same for a 30-minute target as for a 500-hour one. The
calendar therefore flattens whole local years of windows into sorted UTC epoch-second intervals with a
running total of work before each, built lazily and extended on demand in either direction; `between` is
two bisections and a subtraction, `add` one bisection on the running totals.

Every instant is reduced to whole UTC seconds (microseconds truncated) so that both clocks are exact:
`between(t, add(t, n)) == n` and `add(add(t, a), b) == add(t, a + b)` hold by construction.
`calendar_reference.py` holds a deliberately naive day-by-day walk of the same contract, used as the
oracle in tests and the baseline in `bench/`.
"""

from __future__ import annotations

import functools
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import accumulate
from types import MappingProxyType
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays.countries import GB

from desk.domain.playbook import CalendarSpec, ClockKind

__all__ = [
    "AlwaysClock",
    "BusinessCalendar",
    "WorkClock",
    "business_calendar",
    "clock_for",
    "division_holidays",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)
DAY_SECONDS = 86400
FIRST_YEAR = 1900  # the calendar answers for local years FIRST_YEAR..LAST_YEAR
LAST_YEAR = 2399
SEARCH_LIMIT_YEARS = 10  # a calendar with no work in this many years is broken, not slow

# Each division's bank holidays come from its own subdivision: the bare "GB" calendar holds only the days
# common to all of the UK (no Easter Monday, no August bank holiday, no 2 January), wrong for every division.
DIVISION_SUBDIVISIONS: Mapping[str, str] = MappingProxyType(
    {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
)


class WorkClock(Protocol):
    """What the SLA engine needs from a clock; both clocks answer in aware UTC datetimes, whole seconds."""

    def add(self, start: datetime, seconds: int) -> datetime: ...
    def between(self, start: datetime, end: datetime) -> int: ...
    def next_working(self, at: datetime) -> datetime: ...
    def is_working(self, at: datetime) -> bool: ...


def to_epoch(at: datetime, name: str) -> int:
    """Whole UTC epoch seconds of an aware instant; naive datetimes are refused, never guessed."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
    return (at.replace(microsecond=0) - EPOCH) // ONE_SECOND


def from_epoch(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def _check_duration(seconds: int) -> None:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
        raise ValueError(f"seconds must be a non-negative int, got {seconds!r}")


class AlwaysClock:
    """The 24x7 clock: every second counts. Inputs are truncated to whole seconds like the business clock."""

    def add(self, start: datetime, seconds: int) -> datetime:
        _check_duration(seconds)
        return from_epoch(to_epoch(start, "start") + seconds)

    def between(self, start: datetime, end: datetime) -> int:
        return max(0, to_epoch(end, "end") - to_epoch(start, "start"))

    def next_working(self, at: datetime) -> datetime:
        return from_epoch(to_epoch(at, "at"))

    def is_working(self, at: datetime) -> bool:
        to_epoch(at, "at")
        return True


class _UnitedKingdomBeyond2100(GB):
    """The package's own UK rules with its default end year (2100) lifted.

    `holidays` silently returns no holidays at all after `GB.end_year`; an SLA clock that quietly starts
    working through Christmas in 2101 is worse than one extrapolating the statutory recurring rules
    (one-off proclamations after 2100 are of course unknown). Used only for years after `GB.end_year`.
    """

    end_year = LAST_YEAR


@functools.lru_cache(maxsize=4096)
def _holidays(division: str, year: int) -> Mapping[date, str]:
    subdiv = DIVISION_SUBDIVISIONS.get(division)
    if subdiv is None:
        raise ValueError(f"unknown division {division!r}; expected one of {sorted(DIVISION_SUBDIVISIONS)}")
    if year <= GB.end_year:
        found = holidays.country_holidays("GB", subdiv=subdiv, years=year)
    else:
        found = _UnitedKingdomBeyond2100(subdiv=subdiv, years=year)
    # Known differences from the GOV.UK list (kept, not papered over): the package also lists the
    # original date of a holiday that falls on a weekend (e.g. Sat 2021-12-25 as well as the substitute
    # Mon 2021-12-27); GOV.UK lists only the substitute. It matters only for calendars with weekend
    # windows, which are then closed on both days. Checked in tests/domain/test_calendar.py.
    return MappingProxyType({day: name for day, name in found.items() if day.year == year})


def division_holidays(division: str, year: int) -> dict[date, str]:
    """The division's bank holidays in `year` (local dates), from the `holidays` package."""
    return dict(_holidays(division, year))


def wall_to_epoch(zone: tzinfo, day: date, second: int) -> int:
    """The first instant at which the local clock reads at least `second` past midnight of `day`.

    Ambiguous times (autumn) take their first occurrence; a time inside the spring-forward gap maps to
    the transition itself, so every window stays a non-negative interval and boundaries stay in order.
    """
    wall = datetime.combine(day, time()) + timedelta(seconds=second)
    earliest = to_epoch(wall.replace(tzinfo=zone), "wall")
    if _wall_at(zone, earliest) == wall:
        return earliest
    low, high = sorted((to_epoch(wall.replace(tzinfo=zone, fold=1), "wall"), earliest))
    while low < high:
        middle = (low + high) // 2
        if _wall_at(zone, middle) >= wall:
            high = middle
        else:
            low = middle + 1
    return low


def _wall_at(zone: tzinfo, epoch: int) -> datetime:
    return from_epoch(epoch).astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class _Span:
    """Local years [first_year, end_year) flattened: instants [low, high), intervals sorted and disjoint.

    `before[k]` is the work before interval k counted from an arbitrary origin (so prepending a year
    never rewrites existing totals); `before[-1]` is the work up to `high`. Replaced, never mutated, so a
    reader that took a reference sees one consistent span while another thread extends the calendar.
    """

    first_year: int
    end_year: int
    low: int
    high: int
    starts: list[int]
    ends: list[int]
    before: list[int]


class BusinessCalendar:
    """Working windows in a council's timezone, minus the division's bank holidays and closures."""

    def __init__(self, spec: CalendarSpec) -> None:
        _validate(spec)
        try:
            self.zone = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {spec.timezone!r}") from error
        _holidays(spec.division, 2000)  # an unknown division fails now, not at the first ticket
        self.spec = spec
        self._span: _Span | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec.timezone!r}, {self.spec.division!r})"

    def add(self, start: datetime, seconds: int) -> datetime:
        _check_duration(seconds)
        at = to_epoch(start, "start")
        if seconds == 0:
            return from_epoch(at)
        span = self._covering(at, at)
        target = _work_until(span, at) + seconds
        idle_years = 0
        while target > span.before[-1]:
            total = span.before[-1]
            span = self._extended_forward(span)
            idle_years = idle_years + 1 if span.before[-1] == total else 0
            if idle_years >= SEARCH_LIMIT_YEARS:
                raise ValueError(f"{self!r} has no working time in {SEARCH_LIMIT_YEARS} years after {start}")
        k = bisect_left(span.before, target) - 1
        return from_epoch(span.starts[k] + target - span.before[k])

    def between(self, start: datetime, end: datetime) -> int:
        low, high = to_epoch(start, "start"), to_epoch(end, "end")
        if high <= low:
            return 0
        span = self._covering(low, high)
        return _work_until(span, high) - _work_until(span, low)

    def next_working(self, at: datetime) -> datetime:
        instant = to_epoch(at, "at")
        span = self._covering(instant, instant)
        idle_years = 0
        while True:
            k = bisect_right(span.starts, instant) - 1
            if k >= 0 and instant < span.ends[k]:
                return from_epoch(instant)
            if k + 1 < len(span.starts):
                return from_epoch(span.starts[k + 1])
            count = len(span.starts)
            span = self._extended_forward(span)
            idle_years = idle_years + 1 if len(span.starts) == count else 0
            if idle_years >= SEARCH_LIMIT_YEARS:
                raise ValueError(f"{self!r} has no working time in {SEARCH_LIMIT_YEARS} years after {at}")

    def is_working(self, at: datetime) -> bool:
        instant = to_epoch(at, "at")
        span = self._covering(instant, instant)
        k = bisect_right(span.starts, instant) - 1
        return k >= 0 and instant < span.ends[k]

    def _covering(self, low: int, high: int) -> _Span:
        """A span holding both instants, built or grown under the lock only when needed."""
        span = self._span
        if span is not None and span.low <= low and high < span.high:
            return span
        with self._lock:
            span = self._span
            if span is None:
                year = self._local_year(low)
                span = self._build(year, year + 1, None)
            while low < span.low:
                span = self._build(min(self._local_year(low), span.first_year - 1), span.first_year, span)
            while high >= span.high:
                span = self._build(span.end_year, max(self._local_year(high), span.end_year) + 1, span)
            self._span = span
            return span

    def _extended_forward(self, seen: _Span) -> _Span:
        with self._lock:
            span = self._span
            assert span is not None
            if span.end_year == seen.end_year:
                span = self._build(span.end_year, span.end_year + 1, span)
                self._span = span
            return span

    def _local_year(self, epoch: int) -> int:
        return from_epoch(epoch).astimezone(self.zone).year

    def _build(self, first_year: int, end_year: int, span: _Span | None) -> _Span:
        """`span` joined with local years [first_year, end_year), which must adjoin it on one side."""
        if first_year < FIRST_YEAR or end_year - 1 > LAST_YEAR:
            raise ValueError(f"{self!r} covers local years {FIRST_YEAR}-{LAST_YEAR} only")
        starts, ends = self._intervals(first_year, end_year)
        work = [0, *accumulate(end - start for start, end in zip(starts, ends, strict=True))]
        low = wall_to_epoch(self.zone, date(first_year, 1, 1), 0)
        high = wall_to_epoch(self.zone, date(end_year, 1, 1), 0)
        if span is None:
            return _Span(first_year, end_year, low, high, starts, ends, work)
        # Shift the new block's totals, never the existing ones: a running total read from an older span
        # stays valid in a newer one (add() relies on it when it extends mid-search).
        appended = first_year == span.end_year
        shift = span.before[-1] if appended else span.before[0] - work[-1]
        block = _Span(first_year, end_year, low, high, starts, ends, [shift + w for w in work])
        return _joined(span, block) if appended else _joined(block, span)

    def end_of_working_days_after(self, at: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after the local date of `at` (DESIGN.md, the closing
        contract): a working day is a local date with at least one working window, and its end is the end
        of its last window. Counting starts the day after, whatever the hour of `at`."""
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ValueError(f"days must be a positive int, got {days!r}")
        day = from_epoch(to_epoch(at, "at")).astimezone(self.zone).date()
        counted = 0
        for _ in range(SEARCH_LIMIT_YEARS * 366):
            day += timedelta(days=1)
            windows = self._day_windows(day)
            if windows:
                counted += 1
                if counted == days:
                    return from_epoch(windows[-1][1])
        raise ValueError(f"{self!r} has no working day in {SEARCH_LIMIT_YEARS} years after {at}")

    def _day_windows(self, day: date) -> list[tuple[int, int]]:
        """One local date's working windows as UTC epoch intervals: none on a closure or bank holiday."""
        if day in self.spec.closures or day in _holidays(self.spec.division, day.year):
            return []
        found: list[tuple[int, int]] = []
        floor = None  # windows of one day never overlap, even when DST squeezes them
        for window in self.spec.hours[day.weekday()]:
            start = wall_to_epoch(self.zone, day, window.start)
            end = wall_to_epoch(self.zone, day, window.end)
            start = start if floor is None else max(start, floor)
            if end > start:
                found.append((start, end))
                floor = end
        return found

    def _intervals(self, first_year: int, end_year: int) -> tuple[list[int], list[int]]:
        starts: list[int] = []
        ends: list[int] = []
        day, last = date(first_year, 1, 1), date(end_year - 1, 12, 31)
        while day <= last:
            for start, end in self._day_windows(day):
                starts.append(start)
                ends.append(end)
            day += timedelta(days=1)
        return starts, ends


def _joined(left: _Span, right: _Span) -> _Span:
    """Adjacent spans as one; `right`'s totals already continue from `left`'s."""
    return _Span(
        left.first_year,
        right.end_year,
        left.low,
        right.high,
        left.starts + right.starts,
        left.ends + right.ends,
        left.before + right.before[1:],
    )


def _work_until(span: _Span, instant: int) -> int:
    """Running total of work at `instant` (same origin as `span.before`)."""
    k = bisect_right(span.starts, instant) - 1
    if k < 0:
        return span.before[0]
    return span.before[k] + min(instant - span.starts[k], span.ends[k] - span.starts[k])


def _validate(spec: CalendarSpec) -> None:
    """Playbook validation normally rejects bad hours; a calendar built in code must not loop on them."""
    if len(spec.hours) != 7:
        raise ValueError(f"hours must have 7 entries (Monday first), got {len(spec.hours)}")
    for weekday, windows in enumerate(spec.hours):
        previous_end = 0
        for window in windows:
            if not 0 <= window.start < window.end <= DAY_SECONDS or window.start < previous_end:
                raise ValueError(f"weekday {weekday}: windows must be sorted, disjoint, within a day")
            previous_end = window.end


@functools.lru_cache(maxsize=128)
def business_calendar(spec: CalendarSpec) -> BusinessCalendar:
    """One shared calendar per spec, so the lazily built years are built once per process."""
    return BusinessCalendar(spec)


def clock_for(kind: ClockKind, spec: CalendarSpec) -> WorkClock:
    """The clock a priority's targets are counted on."""
    if kind == ClockKind.ALWAYS:
        return AlwaysClock()
    if kind == ClockKind.BUSINESS:
        return business_calendar(spec)
    raise ValueError(f"unknown clock kind {kind!r}")
