"""The `calendar:` block of a playbook -> `CalendarSpec`, with every problem named by its key.

Business time is only as right as the windows it is counted in, so the checks here are the strict ones: a
day given twice, windows that overlap or run backwards, a time zone Python does not know, or a week with no
working time at all would each make SLA due dates silently wrong rather than fail loudly.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from desk.domain.playbook import DIVISIONS, WEEKDAYS, CalendarSpec, Window
from desk.domain.yaml_document import Checker, did_you_mean, key_path, parse_time_of_day, shown

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WINDOW_HINT = 'use "HH:MM-HH:MM", e.g. "09:00-12:30"'


def parse_calendar(check: Checker, value: Any, key: str) -> CalendarSpec | None:
    body = check.fields(value, key, ("timezone", "division", "hours"), ("closures",))
    if body is None:
        return None
    timezone = _timezone(check, body["timezone"], f"{key}.timezone")
    division = check.choice(body["division"], f"{key}.division", DIVISIONS)
    hours = _hours(check, body["hours"], f"{key}.hours")
    closures = _closures(check, body.get("closures", []), f"{key}.closures")
    if timezone is None or division is None or hours is None or closures is None:
        return None
    return CalendarSpec(timezone=timezone, division=division, hours=hours, closures=closures)


def _timezone(check: Checker, value: Any, key: str) -> str | None:
    name = check.text(value, key)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        check.problem(key, f'"{name}" is not a known time zone{did_you_mean(name, available_timezones())}')
        return None
    return name


def _hours(check: Checker, value: Any, key: str) -> tuple[tuple[Window, ...], ...] | None:
    """Seven days of windows, Monday first; days not listed have none."""
    body = check.mapping(value, key)
    if body is None:
        return None
    problems_before = len(check.problems)
    week: list[tuple[Window, ...]] = [() for _ in WEEKDAYS]
    given_by: dict[int, str] = {}
    for days_key, windows_value in body.items():
        days_path = key_path(key, str(days_key))
        days = _days(check, days_key, days_path)
        windows = _windows(check, windows_value, days_path)
        for day in days:
            if day in given_by:
                check.problem(days_path, f"{WEEKDAYS[day]} is already given by {given_by[day]}")
            else:
                given_by[day] = str(days_key)
                week[day] = windows or ()
    if len(check.problems) > problems_before:
        return None
    if not any(week):
        check.problem(key, 'no working window on any day: give at least one, e.g. mon-fri: ["09:00-17:00"]')
        return None
    return tuple(week)


def _days(check: Checker, days_key: Any, key: str) -> list[int]:
    """`mon` -> [0]; `mon-fri` -> [0, 1, 2, 3, 4]."""
    ends = days_key.split("-") if isinstance(days_key, str) else []
    if len(ends) in (1, 2) and all(end in WEEKDAYS for end in ends):
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        if first > last:
            check.problem(key, f"a day range runs forward through the week, e.g. {ends[-1]}-{ends[0]}")
            return []
        return list(range(first, last + 1))
    hint = did_you_mean(days_key, WEEKDAYS) if len(ends) == 1 else ""
    check.problem(key, f"{shown(days_key)} is not a day or range of days (mon..sun, e.g. mon-fri){hint}")
    return []


def _windows(check: Checker, value: Any, key: str) -> tuple[Window, ...] | None:
    items = check.sequence(value, key)
    if items is None:
        return None
    windows: list[tuple[Window, str, int]] = []
    for index, item in enumerate(items):
        window = _window(check, item, key_path(key, index))
        if window is not None:
            windows.append((window, item, index))
    windows.sort()
    for (earlier, earlier_text, _), (later, later_text, index) in pairwise(windows):
        if later.start < earlier.end:
            check.problem(key_path(key, index), f'"{later_text}" overlaps "{earlier_text}"')
    return tuple(window for window, _, _ in windows)


def _window(check: Checker, value: Any, key: str) -> Window | None:
    ends = value.split("-") if isinstance(value, str) else []
    if len(ends) != 2:
        check.problem(key, f"{shown(value)} is not a window ({WINDOW_HINT})")
        return None
    start, end = parse_time_of_day(ends[0]), parse_time_of_day(ends[1], allow_end_of_day=True)
    if start is None or end is None:
        check.problem(key, f"{shown(value)} is not a window ({WINDOW_HINT}; 00:00 to 24:00)")
        return None
    if start >= end:
        check.problem(key, f"{shown(value)} must end after it starts (split a window that crosses midnight)")
        return None
    return Window(start, end)


def _closures(check: Checker, value: Any, key: str) -> frozenset[date] | None:
    """Whole days; YAML hands unquoted dates over as `date` objects and quoted ones as text."""
    items = check.sequence(value, key)
    if items is None:
        return None
    closures: set[date] = set()
    valid = True
    for index, item in enumerate(items):
        closure = _date(item)
        if closure is None:
            check.problem(key_path(key, index), f"{shown(item)} is not a date (use YYYY-MM-DD)")
            valid = False
        else:
            closures.add(closure)
    return frozenset(closures) if valid else None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None  # a whole day is closed, not an instant
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
