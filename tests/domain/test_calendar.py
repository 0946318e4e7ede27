"""Business time: table tests pin UK facts and DST behaviour (the properties are in test_calendar_properties.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from desk.domain.calendar import (
    AlwaysClock,
    BusinessCalendar,
    business_calendar,
    clock_for,
    division_holidays,
)
from desk.domain.calendar_reference import ReferenceCalendar
from desk.domain.playbook import DIVISIONS, ClockKind, Window
from tests.domain.calendars import ALL_DAY, LONDON, NINE_TO_FIVE, H, london, spec, utc

# --- bank holidays -------------------------------------------------------------------------------------

ALL_DIVISIONS_FACTS = [
    date(2022, 9, 19),  # State Funeral of Queen Elizabeth II
    date(2023, 5, 8),  # Coronation of Charles III
    date(2022, 6, 3),  # Platinum Jubilee
    date(2022, 12, 27),  # Christmas Day (substitute day)
    date(2021, 12, 27),  # Christmas Day (substitute day)
    date(2021, 12, 28),  # Boxing Day (substitute day)
    date(2020, 5, 8),  # early May bank holiday moved to VE Day
]
HOLIDAY_FACTS = [
    ("scotland", date(2024, 1, 2), True),  # 2nd January
    ("scotland", date(2023, 1, 3), True),  # 2nd January (substitute day)
    ("scotland", date(2024, 4, 1), False),  # no Easter Monday
    ("scotland", date(2024, 8, 5), True),  # first Monday of August
    ("scotland", date(2024, 8, 26), False),
    ("scotland", date(2023, 11, 30), True),  # St Andrew's Day
    ("scotland", date(2024, 12, 2), True),  # St Andrew's Day (substitute: 30 Nov is a Saturday)
    ("scotland", date(2025, 12, 1), True),  # St Andrew's Day (substitute: 30 Nov is a Sunday)
    ("northern-ireland", date(2025, 3, 17), True),  # St Patrick's Day
    ("northern-ireland", date(2024, 3, 18), True),  # St Patrick's Day (substitute)
    ("northern-ireland", date(2024, 7, 12), True),  # Battle of the Boyne
    ("northern-ireland", date(2025, 7, 14), True),  # Battle of the Boyne (substitute)
    ("northern-ireland", date(2024, 4, 1), True),  # Easter Monday
    ("england-and-wales", date(2024, 4, 1), True),
    ("england-and-wales", date(2024, 8, 26), True),  # late summer bank holiday
    ("england-and-wales", date(2024, 8, 5), False),
    ("england-and-wales", date(2024, 1, 2), False),
    ("england-and-wales", date(2023, 11, 30), False),
    ("england-and-wales", date(2025, 3, 17), False),
    ("england-and-wales", date(2024, 7, 12), False),
]


@pytest.mark.parametrize("division", DIVISIONS)
@pytest.mark.parametrize("day", ALL_DIVISIONS_FACTS)
def test_uk_wide_bank_holidays(division: str, day: date) -> None:
    assert day in division_holidays(division, day.year)


@pytest.mark.parametrize(("division", "day", "is_holiday"), HOLIDAY_FACTS)
def test_division_specific_bank_holidays(division: str, day: date, is_holiday: bool) -> None:
    assert (day in division_holidays(division, day.year)) is is_holiday


def test_weekend_dated_originals_are_kept_unlike_gov_uk() -> None:
    """GOV.UK lists only the substitute Monday; the package also lists the Saturday. Kept on purpose."""
    christmas_2021 = division_holidays("england-and-wales", 2021)
    assert date(2021, 12, 25) in christmas_2021 and date(2021, 12, 27) in christmas_2021


def test_holidays_continue_past_the_package_end_year() -> None:
    later = division_holidays("england-and-wales", 2150)
    assert date(2150, 12, 25) in later and date(2150, 8, 31) in later  # last Monday of August


def test_unknown_division_is_refused() -> None:
    with pytest.raises(ValueError, match="division"):
        division_holidays("wales", 2026)
    with pytest.raises(ValueError, match="division"):
        BusinessCalendar(spec(division="cornwall"))


# Friday 16:00 local + 2 working hours on 09:00-17:00: where each division's next working day starts.
HOLIDAY_ADDS = (
    [
        (d, london(2022, 9, 16, 16), london(2022, 9, 20, 10))
        for d in DIVISIONS  # State Funeral Monday
    ]
    + [
        (d, london(2023, 5, 5, 16), london(2023, 5, 9, 10))
        for d in DIVISIONS  # Coronation Monday
    ]
    + [
        (d, london(2022, 12, 23, 16), london(2022, 12, 28, 10))
        for d in DIVISIONS  # Boxing Day + substitute
    ]
    + [
        ("scotland", london(2025, 12, 31, 16), london(2026, 1, 5, 10)),
        ("england-and-wales", london(2025, 12, 31, 16), london(2026, 1, 2, 10)),
        ("scotland", london(2024, 3, 28, 16), london(2024, 4, 1, 10)),
        ("england-and-wales", london(2024, 3, 28, 16), london(2024, 4, 2, 10)),
        ("scotland", london(2024, 8, 2, 16), london(2024, 8, 6, 10)),
        ("england-and-wales", london(2024, 8, 2, 16), london(2024, 8, 5, 10)),
        ("scotland", london(2024, 11, 29, 16), london(2024, 12, 3, 10)),
        ("northern-ireland", london(2024, 11, 29, 16), london(2024, 12, 2, 10)),
        ("northern-ireland", london(2024, 3, 15, 16), london(2024, 3, 19, 10)),
        ("england-and-wales", london(2024, 3, 15, 16), london(2024, 3, 18, 10)),
        ("northern-ireland", london(2025, 7, 11, 16), london(2025, 7, 15, 10)),
        ("scotland", london(2025, 7, 11, 16), london(2025, 7, 14, 10)),
    ]
)


@pytest.mark.parametrize(("division", "start", "due"), HOLIDAY_ADDS)
def test_business_time_skips_bank_holidays(division: str, start: datetime, due: datetime) -> None:
    calendar = business_calendar(spec(NINE_TO_FIVE, division))
    assert calendar.add(start, 2 * H) == due
    assert calendar.between(start, due) == 2 * H


# --- DST -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due_utc"),
    [
        (london(2026, 3, 27, 16), utc(2026, 3, 30, 9, 30)),  # GMT Friday, BST Monday
        (london(2026, 10, 23, 16), utc(2026, 10, 26, 10, 30)),  # BST Friday, GMT Monday
        (london(2025, 3, 28, 16), utc(2025, 3, 31, 9, 30)),
        (london(2025, 10, 24, 16), utc(2025, 10, 27, 10, 30)),
    ],
)
def test_two_hours_across_the_dst_weekend(start: datetime, due_utc: datetime) -> None:
    calendar = business_calendar(spec())
    due = calendar.add(start, 2 * H)
    assert due == due_utc and due.utcoffset() == timedelta(0)
    assert calendar.between(start, due) == 2 * H


@pytest.mark.parametrize(
    ("day", "seconds"),
    [
        (date(2026, 3, 29), 82800),
        (date(2026, 10, 25), 90000),
        (date(2025, 3, 30), 82800),
        (date(2025, 10, 26), 90000),
        (date(2026, 3, 22), 86400),
    ],
)
def test_whole_day_window_on_dst_change_days(day: date, seconds: int) -> None:
    calendar = business_calendar(spec(ALL_DAY))
    midnight = london(day.year, day.month, day.day)
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), LONDON)
    assert calendar.between(midnight, next_midnight) == seconds
    assert calendar.add(midnight, seconds) == next_midnight


@pytest.mark.parametrize(
    ("window", "day", "seconds"),
    [
        (Window(5400, 3 * H), date(2026, 3, 29), H),  # opens in the gap: counts from the 01:00 UTC jump
        (Window(4500, 6300), date(2026, 3, 29), 0),  # wholly inside the gap: no time, never negative
        (Window(0, 5400), date(2026, 3, 29), H),  # closes in the gap: at the jump
        (Window(5400, 3 * H), date(2026, 3, 22), 5400),
        (Window(H, 2 * H), date(2026, 10, 25), 2 * H),  # 01:00 BST to 02:00 GMT
    ],
)
def test_window_boundaries_inside_dst_changes(window: Window, day: date, seconds: int) -> None:
    calendar = BusinessCalendar(spec(((), (), (), (), (), (), (window,))))
    start = london(day.year, day.month, day.day) - timedelta(hours=2)
    assert calendar.between(start, start + timedelta(days=1)) == seconds


# --- opening hours, lunch, closures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        (london(2026, 3, 2, 11), 3 * H, london(2026, 3, 2, 15)),  # across lunch
        (london(2026, 3, 2, 12, 45), H, london(2026, 3, 2, 14, 30)),  # opened in the lunch gap
        (london(2026, 3, 7, 10), 1800, london(2026, 3, 9, 9, 30)),  # Saturday
        (london(2026, 3, 3, 7), 1800, london(2026, 3, 3, 9, 30)),  # before opening
        (london(2026, 3, 3, 23), 1800, london(2026, 3, 4, 9, 30)),  # late evening
        (london(2026, 3, 6, 16), 1800, london(2026, 3, 6, 16, 30)),  # Friday closes at 16:30
        (london(2026, 3, 6, 16), H, london(2026, 3, 9, 9, 30)),
        (london(2026, 3, 2, 16), H, london(2026, 3, 2, 17)),  # ends at close, not next morning
        (london(2026, 12, 23, 16, 30), H, london(2026, 12, 29, 9, 30)),  # closure, Christmas, Boxing Day
        (london(2026, 3, 2, 11, 0, 0), 0, london(2026, 3, 2, 11)),
        (london(2026, 3, 7, 10), 0, london(2026, 3, 7, 10)),  # zero is zero, even out of hours
    ],
)
def test_add_table(start: datetime, seconds: int, due: datetime) -> None:
    calendar = business_calendar(spec(closures={date(2026, 12, 24)}))
    assert calendar.add(start, seconds) == due
    assert calendar.between(start, due) == seconds


@pytest.mark.parametrize(
    ("at", "opens", "working"),
    [
        (london(2026, 3, 7, 10), london(2026, 3, 9, 9), False),
        (london(2026, 3, 3, 7), london(2026, 3, 3, 9), False),
        (london(2026, 3, 3, 23), london(2026, 3, 4, 9), False),
        (london(2026, 3, 3, 13), london(2026, 3, 3, 13, 30), False),
        (london(2026, 3, 3, 12, 30), london(2026, 3, 3, 13, 30), False),  # windows are half-open
        (london(2026, 3, 3, 9), london(2026, 3, 3, 9), True),
        (london(2026, 12, 23, 17), london(2026, 12, 29, 9), False),
    ],
)
def test_next_working_and_is_working(at: datetime, opens: datetime, working: bool) -> None:
    calendar = business_calendar(spec(closures={date(2026, 12, 24)}))
    assert calendar.next_working(at) == opens
    assert calendar.is_working(at) is working


def test_several_windows_a_day() -> None:
    hours = ((Window(8 * H, 10 * H), Window(12 * H, 13 * H), Window(18 * H, 20 * H), Window(22 * H, 86400)),)
    calendar = BusinessCalendar(spec(hours * 7))
    start = london(2026, 6, 10, 9)
    assert calendar.add(start, 4 * H) == london(2026, 6, 10, 20)
    assert calendar.add(start, 4 * H + 1) == london(2026, 6, 10, 22, 0, 1)
    assert calendar.add(start, 6 * H) == london(2026, 6, 11)  # runs out at midnight, not Thursday 08:00
    assert calendar.add(start, 7 * H) == london(2026, 6, 11, 9)
    assert calendar.between(start, london(2026, 6, 11, 9)) == 7 * H


def test_results_are_utc_whole_seconds() -> None:
    calendar = business_calendar(spec())
    due = calendar.add(london(2026, 3, 2, 11, 0, 0, 999_999), 10)
    assert due == london(2026, 3, 2, 11, 0, 10) and due.tzinfo is UTC and due.microsecond == 0
    assert calendar.between(london(2026, 3, 2, 11, 0, 0, 999_999), london(2026, 3, 2, 11, 0, 1)) == 1


def test_bad_input_is_refused_by_name() -> None:
    calendar = business_calendar(spec())
    naive = datetime(2026, 3, 2, 11)
    for call, name in [
        (lambda: calendar.add(naive, 1), "start"),
        (lambda: calendar.between(utc(2026, 1, 1), naive), "end"),
        (lambda: calendar.next_working(naive), "at"),
        (lambda: AlwaysClock().is_working(naive), "at"),
    ]:
        with pytest.raises(ValueError, match=name):
            call()
    with pytest.raises(ValueError, match="seconds"):
        calendar.add(utc(2026, 3, 2), -1)
    with pytest.raises(ValueError, match="timezone"):
        BusinessCalendar(spec(tz="Europe/Atlantis"))


def test_a_calendar_without_work_fails_instead_of_looping() -> None:
    calendar = BusinessCalendar(spec(((),) * 7))
    with pytest.raises(ValueError, match="no working time"):
        calendar.add(utc(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="no working time"):
        calendar.next_working(utc(2026, 1, 1))
    assert calendar.between(utc(2026, 1, 1), utc(2027, 1, 1)) == 0


def test_range_grows_both_ways_and_agrees_with_reference() -> None:
    calendar, reference = BusinessCalendar(spec()), ReferenceCalendar(spec())
    for start in [
        london(2026, 5, 1, 10),
        london(2019, 2, 3, 10),
        london(2040, 12, 30, 10),
        london(2018, 12, 31),
    ]:
        assert calendar.add(start, 40 * H) == reference.add(start, 40 * H)
    assert calendar.between(london(2018, 1, 1), london(2041, 1, 1)) == sum(
        reference.between(london(year, 1, 1), london(year + 1, 1, 1)) for year in range(2018, 2041)
    )


@pytest.mark.parametrize("start", [london(1970, 1, 1), london(2100, 12, 31, 16), london(2200, 12, 24, 16)])
def test_far_years_are_answered(start: datetime) -> None:
    calendar, reference = BusinessCalendar(spec()), ReferenceCalendar(spec())
    assert calendar.add(start, 40 * H) == reference.add(start, 40 * H)


def test_shared_calendar_is_safe_across_threads() -> None:
    starts = [london(year, 3, 1, 10) for year in range(1990, 2060, 3)]
    expected = [ReferenceCalendar(spec()).add(start, 100 * H) for start in starts]
    calendar = BusinessCalendar(spec())
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda start: calendar.add(start, 100 * H), starts)) == expected


def test_always_clock_and_clock_for() -> None:
    always = clock_for(ClockKind.ALWAYS, spec())
    assert isinstance(always, AlwaysClock)
    assert always.add(london(2026, 3, 29, 0, 30), 2 * H) == utc(2026, 3, 29, 2, 30)
    assert always.between(utc(2026, 1, 1), utc(2026, 1, 1, 0, 0, 1, 500_000)) == 1
    assert always.between(utc(2026, 1, 2), utc(2026, 1, 1)) == 0
    assert always.next_working(london(2026, 7, 1, 3)) == utc(2026, 7, 1, 2) and always.is_working(
        utc(2026, 1, 1)
    )
    assert clock_for(ClockKind.BUSINESS, spec()) is business_calendar(spec())
