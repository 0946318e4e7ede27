"""The SLA report's figures, each a pure function of per-ticket `TicketFacts` rows.

That is the point of the split: `reports.py` replays every ticket through the SLA engine once and reduces
it to one row of facts; everything a report says is then computed from those rows alone, by the
definitions below (and docs/reports.md). The CSV export lists exactly those rows, so a council can redo
every figure in a spreadsheet and get the same numbers; the tests do just that.

Counting rules, chosen so that consecutive reports add up (each outcome falls in exactly one period):
- an SLA target counts in the period in which its outcome became known (`*_decided_at`): when it was met
  (the reply or resolution, on time) or when it was missed (the breach instant, answered or not);
- a ticket counts as resolved in the period of its latest resolution (`resolved_at`), once;
- a duration counts in the period in which it ended; a rating in the period it was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from desk.domain.lifecycle import OPEN_STATUSES
from desk.errors import InvalidInput
from desk.services.digest_stats import Compliance, Outcome

REPORT_TIMEZONE = "Europe/London"  # periods are UK calendar dates, whatever the councils' calendars
_LONDON = ZoneInfo(REPORT_TIMEZONE)
_OPEN = frozenset(str(status) for status in OPEN_STATUSES)
ONE_SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)

# Backlog age buckets in real time: [low, high), the last one unbounded.
BACKLOG_BUCKETS: tuple[tuple[str, str, timedelta, timedelta | None], ...] = (
    ("under_1d", "under 1 day", timedelta(0), DAY),
    ("1d_3d", "1 to 3 days", DAY, 3 * DAY),
    ("3d_7d", "3 to 7 days", 3 * DAY, 7 * DAY),
    ("7d_30d", "7 to 30 days", 7 * DAY, 30 * DAY),
    ("over_30d", "30 days or more", 30 * DAY, None),
)


@dataclass(frozen=True)
class Period:
    """Whole UK calendar days, `start` to `end` inclusive: the instants [starts_at, ends_at)."""

    start: date
    end: date
    starts_at: datetime  # UTC: local midnight at the start of `start`
    ends_at: datetime  # UTC: local midnight after `end` (excluded)

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        if start > end:
            raise InvalidInput(
                f"the period starts on {start.isoformat()}, after it ends on {end.isoformat()}")
        return cls(start, end, _midnight(start), _midnight(end + DAY))

    @property
    def last_instant(self) -> datetime:
        """Instants are whole seconds (DESIGN.md), so this is the last one inside the period."""
        return self.ends_at - ONE_SECOND

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.starts_at <= at < self.ends_at

    def weeks(self) -> Iterator[tuple[str, Period]]:
        """ISO weeks (Monday to Sunday, UK time) overlapping the period, each clipped to it."""
        day = self.start
        while day <= self.end:
            year, week, weekday = day.isocalendar()
            last = min(self.end, day + timedelta(days=7 - weekday))
            yield f"{year:04d}-W{week:02d}", Period.of(day, last)
            day = last + DAY


def _midnight(day: date) -> datetime:
    """Local midnight as a UTC instant (UK clocks change at 01:00/02:00, so midnight always exists)."""
    return datetime.combine(day, time(0), tzinfo=_LONDON).astimezone(UTC)


@dataclass(frozen=True)
class TicketFacts:
    """One ticket as of the report's instant: every figure is computed from these fields alone.

    `*_met` is True (met), False (missed) or None (still undecided); `*_decided_at` is when the outcome
    became known. The `*_business_seconds` are measured on the metric's clock: working seconds on the
    council's calendar, or real seconds for a 24x7 priority. The field order is the CSV's column order.
    """

    ref: str
    council: str
    priority: str  # as of the report's instant (after any change)
    status: str  # as of the report's instant
    opened_at: datetime
    first_response_at: datetime | None  # the respond clock's stop: first public reply, or the resolution
    respond_due_at: datetime | None
    respond_met: bool | None
    respond_decided_at: datetime | None
    resolved_at: datetime | None  # the latest resolution (even if reopened since)
    resolve_cycles: int
    first_cycle_met: bool | None
    first_cycle_decided_at: datetime | None
    all_cycles_met: bool | None  # False once any cycle missed; True once every cycle met and resolved
    all_cycles_decided_at: datetime | None  # the first miss, or the latest resolution
    paused_seconds: int  # resolve clocks stood still (waiting on the council), all cycles
    reopened: bool
    rating: int | None  # the latest satisfaction score given (1-5)
    rated_at: datetime | None
    respond_business_seconds: int | None  # opened_at to first_response_at
    resolve_business_seconds: int | None  # opened_at to resolved_at
    problem: str | None = None  # the shared problem it was linked to at the report's instant (its ref)

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN


@dataclass(frozen=True)
class Durations:
    """Durations in seconds with the refs they came from, in ref order."""

    values: tuple[tuple[str, int], ...] = ()

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def median(self) -> int | None:
        return self.percentile(50)

    @property
    def p90(self) -> int | None:
        return self.percentile(90)

    def percentile(self, percent: int) -> int | None:
        """A spreadsheet's PERCENTILE.INC (linear between the nearest two), rounded half up to the second.

        Chosen so a council can check it with `=PERCENTILE.INC(range, 0.9)` (and `=MEDIAN(range)`).
        """
        ordered = sorted(seconds for _, seconds in self.values)
        if not ordered:
            return None
        rank = Decimal(percent) / 100 * (len(ordered) - 1)
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        exact = ordered[low] + (rank - low) * (ordered[high] - ordered[low])
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Satisfaction:
    scores: tuple[tuple[str, int], ...] = ()  # (ref, score)

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> Decimal | None:
        """Two decimal places, rounded half up; None without ratings."""
        if not self.scores:
            return None
        total = Decimal(sum(score for _, score in self.scores))
        return (total / self.count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def distribution(self) -> dict[int, int]:
        return {score: sum(1 for _, s in self.scores if s == score) for score in range(1, 6)}


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Figures:
    """One row of the report: a council and priority, or "all" of either."""

    council_id: str
    council_name: str
    priority: str
    opened: tuple[str, ...]
    resolved: tuple[str, ...]
    respond: Compliance
    resolve_first_cycle: Compliance
    resolve_all_cycles: Compliance
    time_to_first_response: Durations
    time_to_resolution: Durations
    paused_seconds: int
    reopened: tuple[str, ...]
    satisfaction: Satisfaction
    backlog: tuple[AgeBucket, ...]

    @property
    def reopen_rate(self) -> int | None:
        """Reopened out of resolved, whole per cent rounded half up; None when nothing was resolved."""
        return percent(len(self.reopened), len(self.resolved))

    @property
    def backlog_total(self) -> int:
        return sum(len(bucket.refs) for bucket in self.backlog)


@dataclass(frozen=True)
class Week:
    key: str  # "2026-W02"
    period: Period  # the ISO week clipped to the report's period
    figures: Figures


def percent(part: int, whole: int) -> int | None:
    return None if not whole else (200 * part + whole) // (2 * whole)


def figures(facts: Sequence[TicketFacts], period: Period, as_of: datetime, *, council_id: str = "all",
            council_name: str = "All councils", priority: str = "all") -> Figures:
    """The figures of `facts` (already filtered to a council and priority) for `period`."""
    resolved = [f for f in facts if period.holds(f.resolved_at)]
    return Figures(
        council_id=council_id, council_name=council_name, priority=priority,
        opened=tuple(f.ref for f in facts if period.holds(f.opened_at)),
        resolved=tuple(f.ref for f in resolved),
        respond=_compliance(period, ((f.ref, 1, f.respond_met, f.respond_decided_at) for f in facts)),
        resolve_first_cycle=_compliance(period, (
            (f.ref, 1, f.first_cycle_met, f.first_cycle_decided_at) for f in facts)),
        resolve_all_cycles=_compliance(period, (
            (f.ref, 1, f.all_cycles_met, f.all_cycles_decided_at) for f in facts)),
        time_to_first_response=Durations(tuple(
            (f.ref, f.respond_business_seconds) for f in facts
            if period.holds(f.first_response_at) and f.respond_business_seconds is not None)),
        time_to_resolution=Durations(tuple(
            (f.ref, f.resolve_business_seconds) for f in resolved if f.resolve_business_seconds is not None)),
        paused_seconds=sum(f.paused_seconds for f in resolved),
        reopened=tuple(f.ref for f in resolved if f.reopened),
        satisfaction=Satisfaction(tuple(
            (f.ref, f.rating) for f in facts if f.rating is not None and period.holds(f.rated_at))),
        backlog=backlog(facts, as_of),
    )


def _compliance(period: Period,
                outcomes: Iterable[tuple[str, int, bool | None, datetime | None]]) -> Compliance:
    """The outcomes decided in the period; undecided ones (None) are not counted either way."""
    return Compliance(tuple(Outcome(ref, cycle, met) for ref, cycle, met, decided_at in outcomes
                            if met is not None and period.holds(decided_at)))


def backlog(facts: Iterable[TicketFacts], as_of: datetime) -> tuple[AgeBucket, ...]:
    """Tickets open at `as_of`, by real time since opening."""
    open_ = [(f.ref, as_of - f.opened_at) for f in facts if f.is_open]
    return tuple(
        AgeBucket(key, label, tuple(ref for ref, age in open_ if low <= age and (high is None or age < high)))
        for key, label, low, high in BACKLOG_BUCKETS)


def weeks(facts: Sequence[TicketFacts], period: Period, as_of: datetime) -> tuple[Week, ...]:
    """The weekly trend: each ISO week of the period that had begun by `as_of`, with the same figures."""
    return tuple(Week(key, week, figures(facts, week, as_of)) for key, week in period.weeks()
                 if week.starts_at <= as_of)

