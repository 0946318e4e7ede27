"""Which week a digest is for, and the instants that bound it.

A digest for ISO week W ("2026-W02") is the one *scheduled* in W, at the council's digest day and time in
its calendar's timezone. It covers the 168 real hours that end at that instant, `(ends_at - 168h, ends_at]`:
open at the start and closed at the end, so consecutive weeks partition time and something that happens at
the scheduled instant belongs to the digest sent then. The one exception is deliberate: a week is always
168 real hours (seven equal days for the chart), so the digest after a clock change covers from an hour
after (autumn) or before (spring) the previous digest's instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from desk.db.tables import CouncilRow
from desk.domain.calendar import BusinessCalendar, from_epoch, wall_to_epoch
from desk.domain.playbook import WEEKDAYS
from desk.errors import InvalidInput

WEEK_LENGTH = timedelta(hours=168)
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Schedule:
    """When a digest goes out each week: a weekday and a local time, in one timezone."""

    weekday: int  # 0 = Monday
    seconds: int  # since local midnight
    timezone: str
    channel: str | None = None

    @classmethod
    def of_council(cls, council: CouncilRow, timezone: str) -> Schedule | None:
        """The `digest:` block as synced into the council row ({"channel", "day": "mon", "time": "09:00"})."""
        if not council.digest:
            return None
        hours, minutes = (int(part) for part in str(council.digest["time"]).split(":"))
        return cls(WEEKDAYS.index(council.digest["day"]), hours * 3600 + minutes * 60, timezone,
                   council.digest.get("channel"))


# The managers' digest: Monday 08:00 UK time, an hour before the usual council digests.
MANAGERS_SCHEDULE = Schedule(weekday=0, seconds=8 * 3600, timezone="Europe/London")


@dataclass(frozen=True)
class Window:
    """The 168 hours a digest covers: `starts_at` excluded, `ends_at` included."""

    starts_at: datetime
    ends_at: datetime

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.starts_at < at <= self.ends_at


def parse_week(value: str, *, name: str = "week") -> str:
    """A week key `YYYY-Www`, checked to exist (not every year has a W53); `name` goes in the error."""
    match = _WEEK.fullmatch((value or "").strip())
    try:
        if match is None:
            raise ValueError
        date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not an ISO week like 2026-W02") from None
    return f"{int(match[1]):04d}-W{int(match[2]):02d}"


def week_of(at: datetime, timezone: str) -> str:
    """The ISO week an instant falls in, as a person in `timezone` reads their calendar."""
    year, week, _ = at.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year:04d}-W{week:02d}"


def scheduled_at(week: str, schedule: Schedule) -> datetime:
    """The instant (UTC) the week's digest is due; a local time in the spring-forward gap maps to the jump."""
    key = parse_week(week)
    day = date.fromisocalendar(int(key[:4]), int(key[6:]), schedule.weekday + 1)
    return from_epoch(wall_to_epoch(ZoneInfo(schedule.timezone), day, schedule.seconds))


def window_for(week: str, schedule: Schedule) -> Window:
    ends_at = scheduled_at(week, schedule)
    return Window(ends_at - WEEK_LENGTH, ends_at)


def working_day_end(calendar: BusinessCalendar, at: datetime) -> datetime:
    """The close of the first working day at or after `at`: where "at risk" looks ahead to.

    "The next working day" is read on the council's business calendar whatever clock a target runs on:
    a digest sent on Monday at 09:00 warns about what falls due by Monday's close; one sent on Friday
    evening, about what falls due by Monday's close (or Tuesday's, after a bank holiday).
    """
    first = calendar.next_working(at)
    day = first.astimezone(calendar.zone).date()
    close = calendar.spec.hours[day.weekday()][-1].end
    return from_epoch(wall_to_epoch(calendar.zone, day, close))
