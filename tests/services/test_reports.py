"""The SLA report's model against a seeded history whose every figure is worked out by hand below.

Period: Mon 5 Jan 2026 to Fri 16 Jan 2026 (UK dates; GMT = UTC in January), i.e. [5 Jan 00:00, 17 Jan
00:00); every ticket is replayed as of Fri 16 Jan 23:59:59, the period's last second (AS_OF), however much
later the report is run. The standard playbook: mon-thu 09:00-12:30 + 13:30-17:00 (7h), fri 09:00-16:30
(7h30); P1 30m/4h 24x7, P2 1h/8h, P3 4h/24h, P4 8h/80h. Fife's calendar has Scotland's bank holidays
(Fri 2 Jan 2026 is one; it is a working day in Cherwell's England).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from desk.errors import InvalidInput, NotFound
from desk.services import reports, tickets
from desk.services.report_figures import Period

ENGINEER, COUNCIL = "U0ENGINEER1", "U0COUNCIL"
START, END = date(2026, 1, 5), date(2026, 1, 16)
AS_OF = datetime(2026, 1, 16, 23, 59, 59, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 12, tzinfo=UTC)  # long after: later events must change nothing


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def jan(day: int, hour: int, minute: int = 0) -> datetime:
    return at(1, day, hour, minute)


def seed(session: Session) -> None:
    """Refs follow the order of the calls (per council). What each ticket must come to, as of AS_OF."""
    def open_(when: datetime, title: str, council: str = "cherwell", **kw) -> str:
        return tickets.open_ticket(session, council_id=council, title=title, at=when, actor=COUNCIL, **kw).ref

    def reply(ref: str, when: datetime) -> None:
        tickets.reply(session, ref=ref, text="On it", actor=ENGINEER, at=when)

    def resolve(ref: str, when: datetime) -> None:
        tickets.resolve(session, ref=ref, note="Fixed", actor=ENGINEER, at=when)

    def rate(ref: str, score: int, when: datetime) -> None:
        assert tickets.rate(session, ref=ref, score=score, actor=COUNCIL, at=when)

    # CHW-1 P3, Tue 9 Dec 2025 10:00. Respond due 15:00 (2h30 + 1h30 after lunch), replied 11:00: met,
    # 3600s, decided in December. Resolve 24h: Tue 6h + Wed 7h + Thu 7h + Fri 4h -> missed Fri 12 Dec
    # 13:00 (December: not this period's). Resolved only on Mon 19 Jan: open at AS_OF, 38d old: 30+ days.
    ref = open_(at(12, 9, 10, year=2025), "Bank file rejected", priority="P3")
    reply(ref, at(12, 9, 11, year=2025))
    resolve(ref, jan(19, 10))
    # CHW-2 P4, Wed 10 Dec 2025 10:00, replied 10:30, resolved 15:00 (4h), all in December; rated 4 on
    # Mon 5 Jan 09:15: in the report for its rating only.
    ref = open_(at(12, 10, 10, year=2025), "Old question", priority="P4")
    reply(ref, at(12, 10, 10, 30, year=2025))
    resolve(ref, at(12, 10, 15, year=2025))
    rate(ref, 4, jan(5, 9, 15))
    # CHW-3 P2, Mon 5 Jan 09:30. Respond due 10:30, replied 10:00: met, 1800s. Resolve due Tue 10:30
    # (Mon 6h30 + Tue 1h30), resolved Mon 15:30: met, 3h + 2h = 18000s. Rated 5 on Tue 6 Jan.
    ref = open_(jan(5, 9, 30), "Receipts missing", priority="P2")
    reply(ref, jan(5, 10))
    resolve(ref, jan(5, 15, 30))
    rate(ref, 5, jan(6, 9))
    # CHW-4 P2, Tue 6 Jan 14:00. Respond due 15:00, replied 15:30: missed at Tue 15:00, 5400s. Waiting on
    # the council Tue 16:00 (2h of 8h used) until its comment Wed 11:00: paused Tue 1h + Wed 2h = 10800s.
    # The remaining 6h from Wed 11:00: Wed 5h + Thu 1h -> due Thu 8 Jan 10:00; resolved Thu 09:30: cycle 1
    # met. Rated 4. Reopened Mon 12 Jan 10:00: cycle 2 due Mon 6h + Tue 2h -> Tue 13 Jan 11:00; resolved
    # Tue 16:00: missed at 11:00. Time to (latest) resolution, Tue 6 14:00 to Tue 13 16:00:
    # 3h + 7h + 7h + 7h30 + 7h + 6h = 37h30 = 135000s. Rated 2 on Wed 14 Jan: its latest rating.
    ref = open_(jan(6, 14), "Reconciliation totals wrong", priority="P2")
    reply(ref, jan(6, 15, 30))
    tickets.set_status(session, ref=ref, status="waiting_on_council", actor=ENGINEER, at=jan(6, 16))
    tickets.comment(session, ref=ref, text="Here is the file", actor=COUNCIL, at=jan(7, 11))
    resolve(ref, jan(8, 9, 30))
    rate(ref, 4, jan(8, 12))
    tickets.reopen(session, ref=ref, reason="Still wrong", actor=COUNCIL, at=jan(12, 10))
    resolve(ref, jan(13, 16))
    rate(ref, 2, jan(14, 10))
    # CHW-5 P1 by rule (24x7), Sat 10 Jan 20:00. Respond due 20:30, replied 20:10: met, 600 real seconds.
    # Resolve due Sun 00:00, resolved Sun 02:00: missed at Sun 11 Jan 00:00; 21600 real seconds.
    ref = open_(jan(10, 20), "We cannot take card payments")
    reply(ref, jan(10, 20, 10))
    resolve(ref, jan(11, 2))
    # CHW-6 P3, Thu 15 Jan 16:00, made P2 at 16:30 (30m used): respond due 17:00, resolve 7h30 left ->
    # Thu 30m + Fri 7h -> due Fri 16 Jan 16:00. Unanswered at AS_OF: respond missed Thu 17:00 (silence is
    # a miss), resolve missed Fri 16:00; open, 1d 8h old: 1 to 3 days. Replied after the period.
    ref = open_(jan(15, 16), "Card machine offline", priority="P3")
    tickets.change_priority(session, ref=ref, priority="P2", reason="busy", actor=ENGINEER,
                            at=jan(15, 16, 30))
    reply(ref, jan(19, 9, 10))
    # CHW-7 P4, Fri 16 Jan 10:00, replied 11:00: met, 3600s. Open at AS_OF, 14h old: under a day.
    ref = open_(jan(16, 10), "Export question", priority="P4")
    reply(ref, jan(16, 11))
    resolve(ref, jan(20, 10))
    # CHW-8, Mon 19 Jan: after the period, nowhere in the report.
    open_(jan(19, 9), "Too late", priority="P2")
    # FIFE-1 P4, Fri 2 Jan 10:00, a Scottish bank holiday: the clock starts Mon 5 Jan 09:00. Replied Mon
    # 11:00: met, 7200s (in England it would be 6h30 more). Resolved Fri 9 Jan 12:00: met (80h), 7h x 4 +
    # 3h = 31h = 111600s. Rated 4 on Mon 19 Jan, after the period: no rating as of AS_OF.
    ref = open_(jan(2, 10), "Fife DD run", council="fife", priority="P4")
    reply(ref, jan(5, 11))
    resolve(ref, jan(9, 12))
    rate(ref, 4, jan(19, 9))
    # FIFE-2 P3, Wed 7 Jan 09:00. Respond due 14:00 (3h30 + 30m), replied at 14:00 exactly: met, 14400s.
    # Resolved Thu 8 Jan 12:00: met (due Mon 12 Jan 11:30), 7h + 3h = 36000s. Rated 3.
    ref = open_(jan(7, 9), "Fife refund stuck", council="fife", priority="P3")
    reply(ref, jan(7, 14))
    resolve(ref, jan(8, 12))
    rate(ref, 3, jan(8, 13))
    # FIFE-3 P4, Mon 12 Jan 09:00, replied 09:30: met, 1800s. Waiting on the council from 10:00 to the end:
    # paused Mon 6h + Tue-Thu 21h + Fri 7h30 = 34h30 = 124200s (not resolved: in no total). 4d 15h: 3-7 days.
    ref = open_(jan(12, 9), "Fife mandate export", council="fife", priority="P4")
    reply(ref, jan(12, 9, 30))
    tickets.set_status(session, ref=ref, status="waiting_on_council", actor=ENGINEER, at=jan(12, 10))


# Per ticket, as of AS_OF: (priority, status, respond_met, respond_decided_at, resolved_at, cycles,
# first_cycle_met, first decided, all_cycles_met, all decided, paused, rating, respond s, resolve s).
FACTS = {
    "CHW-1": ("P3", "in_progress", True, at(12, 9, 11, year=2025), None, 1, False, at(12, 12, 13, year=2025),
              False, at(12, 12, 13, year=2025), 0, None, 3600, None),
    "CHW-2": ("P4", "resolved", True, at(12, 10, 10, 30, year=2025), at(12, 10, 15, year=2025), 1, True,
              at(12, 10, 15, year=2025), True, at(12, 10, 15, year=2025), 0, 4, 1800, 14400),
    "CHW-3": ("P2", "resolved", True, jan(5, 10), jan(5, 15, 30), 1, True, jan(5, 15, 30), True,
              jan(5, 15, 30), 0, 5, 1800, 18000),
    "CHW-4": ("P2", "resolved", False, jan(6, 15), jan(13, 16), 2, True, jan(8, 9, 30), False, jan(13, 11),
              10800, 2, 5400, 135000),
    "CHW-5": ("P1", "resolved", True, jan(10, 20, 10), jan(11, 2), 1, False, jan(11, 0), False, jan(11, 0),
              0, None, 600, 21600),
    "CHW-6": ("P2", "new", False, jan(15, 17), None, 1, False, jan(16, 16), False, jan(16, 16), 0, None,
              None, None),
    "CHW-7": ("P4", "in_progress", True, jan(16, 11), None, 1, None, None, None, None, 0, None, 3600, None),
    "FIFE-1": ("P4", "resolved", True, jan(5, 11), jan(9, 12), 1, True, jan(9, 12), True, jan(9, 12), 0,
               None, 7200, 111600),
    "FIFE-2": ("P3", "resolved", True, jan(7, 14), jan(8, 12), 1, True, jan(8, 12), True, jan(8, 12), 0, 3,
               14400, 36000),
    "FIFE-3": ("P4", "waiting_on_council", True, jan(12, 9, 30), None, 1, None, None, None, None, 124200,
               None, 1800, None),
}

# The figures, worked out from FACTS by the definitions (docs/reports.md). Durations: sorted, then the
# median and PERCENTILE.INC(0.9) (rank 0.9 x (n - 1), linear between neighbours), rounded to the second.
# Cherwell: respond decided in the period: CHW-3 met, CHW-4 missed, CHW-5 met, CHW-6 missed, CHW-7 met.
# First cycle: CHW-3 met, CHW-4 met, CHW-5 missed, CHW-6 missed; all cycles: only CHW-3 met of the same 4.
# First response 600, 1800, 3600, 5400: median 2700, p90 3600 + 0.7 x 1800 = 4860.
# Resolution 18000, 21600, 135000: median 21600, p90 21600 + 0.8 x 113400 = 112320.
# Fife: first response 1800, 7200, 14400: median 7200, p90 7200 + 0.8 x 7200 = 12960; resolution 36000,
# 111600: median 73800, p90 36000 + 0.9 x 75600 = 104040.
# Overall first response 600, 1800, 1800, 3600, 5400, 7200, 14400: median 3600, p90 7200 + 0.4 x 7200 =
# 10080; resolution 18000, 21600, 36000, 111600, 135000: median 36000, p90 111600 + 0.6 x 23400 = 125640.
# Columns: opened, resolved, respond (met, total, %), first cycle, all cycles, first response (n, median,
# p90), resolution (n, median, p90), paused, reopened, reopen %, ratings (n, mean), backlog per bucket.
EXPECTED = {
    ("all", "all"): (7, 5, (6, 8, 75), (4, 6, 67), (3, 6, 50), (7, 3600, 10080), (5, 36000, 125640),
                     10800, 1, 20, (4, "3.50"), (1, 1, 1, 0, 1)),
    ("cherwell", "all"): (5, 3, (3, 5, 60), (2, 4, 50), (1, 4, 25), (4, 2700, 4860), (3, 21600, 112320),
                          10800, 1, 33, (3, "3.67"), (1, 1, 0, 0, 1)),
    ("cherwell", "P1"): (1, 1, (1, 1, 100), (0, 1, 0), (0, 1, 0), (1, 600, 600), (1, 21600, 21600),
                         0, 0, 0, (0, None), (0, 0, 0, 0, 0)),
    # P2: first response 1800, 5400 (median 3600, p90 1800 + 0.9 x 3600 = 5040); resolution 18000, 135000
    # (median 76500, p90 18000 + 0.9 x 117000 = 123300).
    ("cherwell", "P2"): (3, 2, (1, 3, 33), (2, 3, 67), (1, 3, 33), (2, 3600, 5040), (2, 76500, 123300),
                         10800, 1, 50, (2, "3.50"), (0, 1, 0, 0, 0)),
    ("cherwell", "P3"): (0, 0, (0, 0, None), (0, 0, None), (0, 0, None), (0, None, None), (0, None, None),
                         0, 0, None, (0, None), (0, 0, 0, 0, 1)),
    ("cherwell", "P4"): (1, 0, (1, 1, 100), (0, 0, None), (0, 0, None), (1, 3600, 3600), (0, None, None),
                         0, 0, None, (1, "4.00"), (1, 0, 0, 0, 0)),
    ("fife", "all"): (2, 2, (3, 3, 100), (2, 2, 100), (2, 2, 100), (3, 7200, 12960), (2, 73800, 104040),
                      0, 0, 0, (1, "3.00"), (0, 0, 1, 0, 0)),
    ("fife", "P3"): (1, 1, (1, 1, 100), (1, 1, 100), (1, 1, 100), (1, 14400, 14400), (1, 36000, 36000),
                     0, 0, 0, (1, "3.00"), (0, 0, 0, 0, 0)),
    # Fife P4: first response 1800, 7200: median 4500, p90 1800 + 0.9 x 5400 = 6660.
    ("fife", "P4"): (1, 1, (2, 2, 100), (1, 1, 100), (1, 1, 100), (2, 4500, 6660), (1, 111600, 111600),
                     0, 0, 0, (0, None), (0, 0, 1, 0, 0)),
    ("belfast", "all"): (0, 0, (0, 0, None), (0, 0, None), (0, 0, None), (0, None, None), (0, None, None),
                         0, 0, None, (0, None), (0, 0, 0, 0, 0)),
}

WEEKS = [("2026-W02", 4, 4, (4, 5, 80)), ("2026-W03", 3, 1, (2, 3, 67))]
BREACHES = [("CHW-4", "respond", 1, jan(6, 15)), ("CHW-5", "resolve", 1, jan(11, 0)),
            ("CHW-4", "resolve", 2, jan(13, 11)), ("CHW-6", "respond", 1, jan(15, 17)),
            ("CHW-6", "resolve", 1, jan(16, 16))]


def summary(f: reports.Figures) -> tuple:
    """A `Figures` in the shape of EXPECTED (the other formats' tests build the same shape)."""
    def rate(c) -> tuple:
        return (c.met, c.total, c.percent)

    def times(d) -> tuple:
        return (d.count, d.median, d.p90)

    mean = f.satisfaction.mean
    return (len(f.opened), len(f.resolved), rate(f.respond), rate(f.resolve_first_cycle),
            rate(f.resolve_all_cycles), times(f.time_to_first_response), times(f.time_to_resolution),
            f.paused_seconds, len(f.reopened), f.reopen_rate,
            (f.satisfaction.count, None if mean is None else str(mean)),
            tuple(len(b.refs) for b in f.backlog))


def table(report: reports.SlaReport) -> dict[tuple[str, str], tuple]:
    rows = {("all", "all"): summary(report.overall)} if report.council_id is None else {}
    for council in report.councils:
        rows[(council.council_id, "all")] = summary(council.figures)
        rows |= {(council.council_id, row.priority): summary(row) for row in council.priorities}
    return rows


def facts(report: reports.SlaReport) -> dict[str, tuple]:
    return {f.ref: (f.priority, f.status, f.respond_met, f.respond_decided_at, f.resolved_at,
                    f.resolve_cycles,
                    f.first_cycle_met, f.first_cycle_decided_at, f.all_cycles_met, f.all_cycles_decided_at,
                    f.paused_seconds, f.rating, f.respond_business_seconds, f.resolve_business_seconds)
            for f in report.tickets}


@pytest.fixture
def seeded(session: Session) -> Session:
    seed(session)
    return session


def build(session: Session, council: str | None = None, now: datetime = LATER) -> reports.SlaReport:
    return reports.build_report(session, start=START, end=END, council_id=council, now=now)


def test_every_ticket_is_replayed_as_of_the_periods_last_second(seeded: Session) -> None:
    report = build(seeded)
    assert (report.as_of, report.complete, report.title) == (AS_OF, True, "All councils")
    assert (report.period.starts_at, report.period.ends_at) == (jan(5, 0), jan(17, 0))
    assert facts(report) == FACTS  # CHW-8 (opened after the period) is nowhere
    chw6 = next(f for f in report.tickets if f.ref == "CHW-6")
    assert (chw6.opened_at, chw6.first_response_at, chw6.respond_due_at) == (jan(15, 16), None, jan(15, 17))
    chw4 = next(f for f in report.tickets if f.ref == "CHW-4")
    assert (chw4.first_response_at, chw4.respond_due_at, chw4.reopened, chw4.rated_at) == (
        jan(6, 15, 30), jan(6, 15), True, jan(14, 10))


def test_every_figure_equals_the_hand_computation(seeded: Session) -> None:
    report = build(seeded)
    assert table(report) == EXPECTED
    assert [c.council_id for c in report.councils] == ["belfast", "cherwell", "fife"]
    cherwell = report.councils[1].figures
    assert cherwell.opened == ("CHW-3", "CHW-4", "CHW-5", "CHW-6", "CHW-7")
    assert cherwell.resolved == ("CHW-3", "CHW-4", "CHW-5") and cherwell.reopened == ("CHW-4",)
    assert [(o.ref, o.met) for o in cherwell.respond.outcomes] == [
        ("CHW-3", True), ("CHW-4", False), ("CHW-5", True), ("CHW-6", False), ("CHW-7", True)]
    assert [(b.key, b.refs) for b in report.overall.backlog] == [
        ("under_1d", ("CHW-7",)), ("1d_3d", ("CHW-6",)), ("3d_7d", ("FIFE-3",)), ("7d_30d", ()),
        ("over_30d", ("CHW-1",))]
    assert report.overall.satisfaction.distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}


def test_breaches_and_the_weekly_trend(seeded: Session) -> None:
    report = build(seeded)
    assert [(b.ref, b.metric, b.cycle, b.breached_at) for b in report.breaches] == BREACHES
    assert [(w.key, len(w.figures.opened), len(w.figures.resolved),
             (w.figures.respond.met, w.figures.respond.total, w.figures.respond.percent))
            for w in report.weeks] == WEEKS
    assert (report.weeks[1].period.start, report.weeks[1].period.end) == (date(2026, 1, 12), END)


def test_a_report_run_later_says_the_same(seeded: Session) -> None:
    assert build(seeded, now=AS_OF) == build(seeded, now=LATER)


def test_a_period_still_running_is_as_of_now(seeded: Session) -> None:
    report = build(seeded, now=jan(12, 12))  # Mon 12 Jan noon: CHW-4 reopened at 10:00, cycle 2 running
    assert (report.as_of, report.complete) == (jan(12, 12), False)
    chw4 = next(f for f in report.tickets if f.ref == "CHW-4")
    assert (chw4.status, chw4.resolved_at, chw4.all_cycles_met, chw4.rating) == ("in_progress", jan(8, 9, 30),
                                                                                None, 4)
    assert len(report.overall.opened) == 5 and [w.key for w in report.weeks] == ["2026-W02", "2026-W03"]


def test_a_councils_report_holds_nothing_of_any_other(seeded: Session) -> None:
    report = build(seeded, council="fife")
    assert report.title == "Fife Council" and [c.council_id for c in report.councils] == ["fife"]
    assert table(report) == {key: value for key, value in EXPECTED.items() if key[0] == "fife"}
    assert summary(report.overall) == EXPECTED[("fife", "all")]
    assert {f.council for f in report.tickets} == {"fife"} and report.breaches == ()
    assert "CHW" not in repr(report) and "cherwell" not in repr(report).lower()


def test_an_empty_period(session: Session) -> None:
    report = reports.build_report(session, start=date(2026, 3, 2), end=date(2026, 3, 8), council_id=None,
                                  now=LATER)
    assert report.tickets == () and report.breaches == ()
    assert summary(report.overall) == EXPECTED[("belfast", "all")]
    assert [w.key for w in report.weeks] == ["2026-W10"]  # Mon 2 Mar 00:00 has begun; the rest is now


@pytest.mark.parametrize(("start", "end", "error", "message"), [
    (date(2026, 1, 16), date(2026, 1, 5), InvalidInput, "the period starts on 2026-01-16, after it ends"),
    (date(2026, 4, 1), date(2026, 4, 30), InvalidInput,
     "the period starts on 2026-04-01: it has not started"),
])
def test_a_bad_period_is_refused(session: Session, start: date, end: date, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        reports.build_report(session, start=start, end=end, council_id=None, now=LATER)


def test_an_unknown_council_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no council 'nowhere'"):
        build(session, council="nowhere")


def test_periods_are_uk_days_and_weeks_are_clipped() -> None:
    summer = Period.of(date(2026, 7, 1), date(2026, 7, 31))  # BST: local midnight is 23:00 UTC
    assert (summer.starts_at, summer.ends_at) == (at(6, 30, 23), at(7, 31, 23))
    assert [(key, p.start.day, p.end.day) for key, p in summer.weeks()] == [
        ("2026-W27", 1, 5), ("2026-W28", 6, 12), ("2026-W29", 13, 19), ("2026-W30", 20, 26),
        ("2026-W31", 27, 31)]
    autumn = Period.of(date(2026, 10, 25), date(2026, 10, 25))  # the day the clocks go back: 25 hours
    assert autumn.ends_at - autumn.starts_at == timedelta(hours=25)
