"""Business time's algebra, and the fast calendar checked against the day-walking reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.domain.calendar import (
    BusinessCalendar,
    business_calendar,
)
from desk.domain.calendar_reference import ReferenceCalendar
from desk.domain.playbook import CalendarSpec
from tests.domain.calendars import divisions, durations, instants, near_transitions, odd_specs, spec

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(divisions, instants, durations)
def test_between_counts_what_add_added(division: str, start: datetime, seconds: int) -> None:
    calendar = business_calendar(spec(division=division))
    assert calendar.between(start, calendar.add(start, seconds)) == seconds


@PROPERTY
@given(divisions, instants, durations, durations)
def test_add_composes(division: str, start: datetime, first: int, second: int) -> None:
    calendar = business_calendar(spec(division=division))
    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@PROPERTY
@given(divisions, st.lists(instants, min_size=3, max_size=3))
def test_between_is_additive(division: str, points: list[datetime]) -> None:
    a, b, c = sorted(points)
    calendar = business_calendar(spec(division=division))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)


@PROPERTY
@given(divisions, instants, durations, instants)
def test_fast_calendar_matches_reference(
    division: str, start: datetime, seconds: int, other: datetime
) -> None:
    calendar, reference = (
        business_calendar(spec(division=division)),
        ReferenceCalendar(spec(division=division)),
    )
    assert calendar.add(start, seconds) == reference.add(start, seconds)
    assert calendar.between(start, other) == reference.between(start, other)
    assert calendar.next_working(start) == reference.next_working(start)
    assert calendar.is_working(start) is reference.is_working(start)


def _weekly_work(calendar_spec: CalendarSpec) -> int:
    return sum(window.end - window.start for windows in calendar_spec.hours for window in windows)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    odd_specs(),
    st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)) | near_transitions,
    st.floats(0, 8),
    st.integers(0, 40 * 86400),
)
def test_fast_matches_reference_for_odd_calendars(
    calendar_spec: CalendarSpec, start: datetime, weeks: float, span: int
) -> None:
    seconds = int(weeks * _weekly_work(calendar_spec))
    calendar, reference = BusinessCalendar(calendar_spec), ReferenceCalendar(calendar_spec)
    end = start + timedelta(seconds=span)
    assert calendar.between(start, end) == reference.between(start, end)
    if _weekly_work(calendar_spec):
        assert calendar.add(start, seconds) == reference.add(start, seconds)
        assert calendar.next_working(start) == reference.next_working(start)
    assert calendar.is_working(start) is reference.is_working(start)
