"""The closing contract (DESIGN.md, Tickets) and what a thread message does at each status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.domain.calendar import BusinessCalendar, business_calendar
from desk.domain.calendar_reference import ReferenceCalendar
from desk.domain.lifecycle import OPEN_STATUSES, Speaker, Status, ThreadEffect, close_due_at, thread_effect
from desk.domain.playbook import Window
from tests.domain.calendars import LONDON, TRANSITION_DAYS, divisions, london, odd_specs, spec, utc

H = 3600
# The worked example's hours: Mon-Thu 09:00-17:00, Fri 09:00-16:30.
EXAMPLE_HOURS = ((Window(9 * H, 17 * H),),) * 4 + ((Window(9 * H, 16 * H + 1800),), (), ())


def test_the_worked_example_in_design() -> None:
    calendar = business_calendar(spec(EXAMPLE_HOURS))
    assert close_due_at(calendar, london(2026, 12, 2, 15), 5) == london(2026, 12, 9, 17)


@pytest.mark.parametrize(("resolved", "days", "closes", "why"), [
    (london(2026, 12, 2, 23, 59), 5, london(2026, 12, 9, 17), "late in the day: still counted from that day"),
    (london(2026, 12, 2, 6), 5, london(2026, 12, 9, 17), "before hours: the same"),
    (london(2026, 12, 5, 11), 1, london(2026, 12, 7, 17), "resolved on a Saturday: Monday is the first day"),
    (london(2026, 12, 3, 10), 1, london(2026, 12, 4, 16, 30), "a Friday ends at its last window"),
    (london(2026, 12, 23, 10), 2, london(2026, 12, 30, 17),
     "Christmas: closure 24 Dec, bank holidays 25 and 28 Dec, the weekend"),
    (london(2026, 3, 26, 12), 2, london(2026, 3, 30, 17), "across the clocks going forward (29 Mar)"),
    (london(2026, 10, 22, 12), 2, london(2026, 10, 26, 17), "across the clocks going back (25 Oct)"),
])
def test_closing_counts_working_days(resolved: datetime, days: int, closes: datetime, why: str) -> None:
    calendar = business_calendar(spec(EXAMPLE_HOURS, closures={datetime(2026, 12, 24).date()}))
    assert close_due_at(calendar, resolved, days) == closes, why


def test_the_end_of_a_day_is_the_end_of_its_last_window_after_lunch() -> None:
    calendar = business_calendar(spec())  # Mon-Thu 09:00-12:30, 13:30-17:00; Fri 09:00-16:30
    assert close_due_at(calendar, london(2026, 1, 5, 10), 1) == london(2026, 1, 6, 17)


def test_a_scottish_council_skips_its_own_bank_holidays() -> None:
    # 2 January is a bank holiday in Scotland only: resolved Thu 1 Jan 2026 (a holiday everywhere).
    england = business_calendar(spec(EXAMPLE_HOURS))
    scotland = business_calendar(spec(EXAMPLE_HOURS, division="scotland"))
    assert close_due_at(england, london(2026, 1, 1, 12), 1) == london(2026, 1, 2, 16, 30)
    assert close_due_at(scotland, london(2026, 1, 1, 12), 1) == london(2026, 1, 5, 17)


def test_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        business_calendar(spec()).end_of_working_days_after(utc(2026, 1, 5), 0)


def test_a_calendar_without_working_days_is_an_error_not_a_hang() -> None:
    with pytest.raises(ValueError, match="no working day"):
        BusinessCalendar(spec(((),) * 7)).end_of_working_days_after(utc(2026, 1, 5), 1)


instants = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(divisions, instants, st.integers(1, 40))
def test_fast_calendar_matches_the_day_walk(division: str, resolved: datetime, days: int) -> None:
    calendar_spec = spec(division=division)
    assert (business_calendar(calendar_spec).end_of_working_days_after(resolved, days)
            == ReferenceCalendar(calendar_spec).end_of_working_days_after(resolved, days))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_specs(), st.sampled_from(TRANSITION_DAYS), st.integers(0, 86399), st.integers(1, 10))
def test_odd_calendars_match_the_day_walk(calendar_spec, day, second: int, days: int) -> None:
    if not any(calendar_spec.hours):
        return
    resolved = datetime.combine(day, datetime.min.time(), LONDON).astimezone(UTC)
    resolved += timedelta(seconds=second)
    fast, reference = BusinessCalendar(calendar_spec), ReferenceCalendar(calendar_spec)
    closes = fast.end_of_working_days_after(resolved, days)
    assert closes == reference.end_of_working_days_after(resolved, days)
    assert closes > resolved


# --- thread messages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", list(Status))
def test_no_council_message_is_dropped(status: Status) -> None:
    effect = thread_effect(status, Speaker.COUNCIL)
    assert effect is not ThreadEffect.IGNORE
    assert effect is {Status.RESOLVED: ThreadEffect.REOPEN, Status.CLOSED: ThreadEffect.FOLLOW_UP}.get(
        status, ThreadEffect.COMMENT)


@pytest.mark.parametrize("status", list(Status))
def test_support_replies_while_open_and_notes_after(status: Status) -> None:
    expected = ThreadEffect.REPLY if status in OPEN_STATUSES else ThreadEffect.NOTE
    assert thread_effect(status, Speaker.SUPPORT) is expected


@pytest.mark.parametrize("status", list(Status))
def test_others_change_nothing(status: Status) -> None:
    assert thread_effect(status, Speaker.OTHER) is ThreadEffect.IGNORE
