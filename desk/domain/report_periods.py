"""Report periods as people type them after `/desk report`: whole days, first and last included.

Managers think in weeks and months ("last week's figures for the board"), so those are words; anything
else is an explicit month or date range. `today` is an argument (the local date where the manager works),
so "last week" is the same answer for everyone asking on the same day.

    last-week            Monday..Sunday of the week before today's
    last-month           the calendar month before today's
    2026-01              that month
    2026-01-01..2026-01-31   those days (at most MAX_DAYS)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from desk.errors import InvalidInput

DEFAULT_PERIOD = "last-week"
MAX_DAYS = 366  # a year's report is plenty for a chat command; longer ones go through the CLI
MONTH = re.compile(r"(\d{4})-(\d{2})")
RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
EXAMPLES = "`last-week`, `last-month`, `2026-01` or `2026-01-01..2026-01-31`"


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date  # included

    @property
    def label(self) -> str:
        """How the period is named in messages: '1–31 Jan 2026', '5 Jan 2026', '29 Dec 2025 – 4 Jan 2026'."""
        if self.start == self.end:
            return _day(self.start)
        if (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{self.start.day}–{_day(self.end)}"
        return f"{_day(self.start)} – {_day(self.end)}"


def looks_like_period(text: str) -> bool:
    """Whether a word is meant as a period (so `/desk report cherwell` means the default period)."""
    word = text.strip().lower()
    return word in ("last-week", "last-month") or bool(MONTH.fullmatch(word) or RANGE.fullmatch(word))


def parse_period(text: str | None, today: date) -> DayRange:
    """The period a word names, or `InvalidInput` saying what would have worked."""
    word = (text or DEFAULT_PERIOD).strip().lower()
    if word == "last-week":
        monday = today - timedelta(days=today.weekday() + 7)
        return DayRange(monday, monday + timedelta(days=6))
    if word == "last-month":
        last_of_previous = today.replace(day=1) - timedelta(days=1)
        return _month(last_of_previous.year, last_of_previous.month)
    if found := MONTH.fullmatch(word):
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"`{word}` is not a month: try {EXAMPLES}")
        return _month(year, month)
    if found := RANGE.fullmatch(word):
        try:
            start, end = date.fromisoformat(found[1]), date.fromisoformat(found[2])
        except ValueError:
            raise InvalidInput(f"`{word}` has a date that does not exist: try {EXAMPLES}") from None
        if end < start:
            raise InvalidInput(f"`{word}` ends before it starts")
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInput(f"`{word}` is longer than {MAX_DAYS} days: use `desk report sla` for that")
        return DayRange(start, end)
    raise InvalidInput(f"`{word}` is not a period: try {EXAMPLES}")


def _month(year: int, month: int) -> DayRange:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return DayRange(first, following - timedelta(days=1))


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
