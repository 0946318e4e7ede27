"""Periods as managers type them after `/desk report`."""

from __future__ import annotations

from datetime import date

import pytest

from desk.domain.report_periods import DayRange, looks_like_period, parse_period
from desk.errors import InvalidInput

WEDNESDAY = date(2026, 1, 14)


@pytest.mark.parametrize(("text", "start", "end"), [
    (None, date(2026, 1, 5), date(2026, 1, 11)),
    ("last-week", date(2026, 1, 5), date(2026, 1, 11)),
    ("LAST-WEEK", date(2026, 1, 5), date(2026, 1, 11)),
    ("last-month", date(2025, 12, 1), date(2025, 12, 31)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ("2026-01-01..2026-01-31", date(2026, 1, 1), date(2026, 1, 31)),
    ("2026-01-07..2026-01-07", date(2026, 1, 7), date(2026, 1, 7)),
])
def test_periods(text: str | None, start: date, end: date) -> None:
    assert parse_period(text, WEDNESDAY) == DayRange(start, end)


def test_last_week_on_a_monday_and_a_sunday() -> None:
    assert parse_period("last-week", date(2026, 1, 12)) == DayRange(date(2026, 1, 5), date(2026, 1, 11))
    assert parse_period("last-week", date(2026, 1, 11)) == DayRange(date(2025, 12, 29), date(2026, 1, 4))
    assert parse_period("last-month", date(2026, 1, 1)) == DayRange(date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize("text", ["yesterday", "2026-13", "2026-02-30..2026-03-01", "2026-02-01..2026-01-01",
                                  "2020-01-01..2026-01-01", "cherwell"])
def test_what_is_not_a_period_says_what_would_be(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_period(text, WEDNESDAY)


def test_which_words_look_like_periods() -> None:
    assert looks_like_period("last-month") and looks_like_period("2026-01")
    assert not looks_like_period("cherwell") and not looks_like_period("fife")


def test_labels() -> None:
    assert DayRange(date(2026, 1, 1), date(2026, 1, 31)).label == "1–31 Jan 2026"
    assert DayRange(date(2025, 12, 29), date(2026, 1, 4)).label == "29 Dec 2025 – 4 Jan 2026"
    assert DayRange(date(2026, 1, 7), date(2026, 1, 7)).label == "7 Jan 2026"
