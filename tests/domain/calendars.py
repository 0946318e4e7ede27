"""What the calendar tests share: council opening hours, instants in London and UTC, and the strategies
that draw instants, durations and odd calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from desk.domain.playbook import DIVISIONS, CalendarSpec, Window

H = 3600
LONDON = ZoneInfo("Europe/London")
MON_THU = (Window(9 * H, 12 * H + 1800), Window(13 * H + 1800, 17 * H))
COUNCIL_HOURS = (MON_THU, MON_THU, MON_THU, MON_THU, (Window(9 * H, 16 * H + 1800),), (), ())
NINE_TO_FIVE = ((Window(9 * H, 17 * H),),) * 5 + ((), ())
ALL_DAY = ((Window(0, 86400),),) * 7


def spec(hours=COUNCIL_HOURS, division="england-and-wales", closures=(), tz="Europe/London") -> CalendarSpec:
    return CalendarSpec(timezone=tz, division=division, hours=hours, closures=frozenset(closures))


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


ZONES = [UTC, LONDON, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
instants = st.datetimes(datetime(2019, 1, 1), datetime(2031, 12, 31), timezones=st.sampled_from(ZONES))
durations = st.integers(0, 600 * H)
divisions = st.sampled_from(DIVISIONS)


@st.composite
def odd_specs(draw: st.DrawFn) -> CalendarSpec:
    """Any hours in zones with 1 h and 30 min DST shifts, boundaries often on quarter hours (so in gaps)."""
    boundary = st.integers(0, 96).map(lambda quarter: quarter * 900) | st.integers(0, 86400)
    days = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(boundary, max_size=6)))
        days.append(tuple(Window(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)))
    tz = draw(st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"]))
    closures = draw(st.sets(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=20))
    return spec(tuple(days), draw(divisions), closures, tz)


# DST change days in 2025 and 2026 for London, New York and Lord Howe (a 30-minute shift).
TRANSITION_DAYS = [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25),
                   date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1),
                   date(2025, 4, 6), date(2025, 10, 5), date(2026, 4, 5), date(2026, 10, 4)]  # fmt: skip
near_transitions = st.builds(
    lambda day, offset: datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=offset),
    st.sampled_from(TRANSITION_DAYS),
    st.integers(-3 * 86400, 3 * 86400),
)
