"""The `/desk report` summary: headline figures, a line per council, desk's own link, within Block Kit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from desk.domain.report_periods import DayRange
from desk.services.reports import SlaReport, build_report
from desk.slack.blocks.reports import report_summary
from tests.services.test_reports import END, START, seed
from tests.slack.blockkit import flat, message_problems

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
URL = "https://desk.example.gov.uk/reports/sla?t=eyJjIjpudWxsfQ.c2lnbmF0dXJl"


@pytest.fixture
def seeded(session: Session) -> Session:
    seed(session)
    return session


def summary_of(report: SlaReport, start: date = START, end: date = END):
    return report_summary(report, period=DayRange(start, end), url=URL, expires_at=NOW + timedelta(days=7),
                          now=NOW)


def test_all_councils_headline_and_one_line_per_council(seeded: Session) -> None:
    message = summary_of(build_report(seeded, start=START, end=END, council_id=None, now=NOW))
    said = flat(message)
    assert message.text == "SLA report: All councils, 5–16 Jan 2026: respond on time 75 % (6 of 8), 5 breaches"
    assert "*Respond on time*\n75 % (6 of 8)" in said and "*Resolved on time (first cycle)*\n67 % (4 of 6)" in said
    assert "*Breaches*\n5" in said and "*Opened · resolved*\n7 · 5" in said
    assert "• *Cherwell District Council*: respond 60 % (3 of 5) · resolve 50 % (2 of 4) · 5 breaches" in said
    assert "• *Fife Council*: respond 100 % (3 of 3) · resolve 100 % (2 of 2) · 0 breaches" in said
    assert "• *Belfast City Council*: respond nothing due" in said
    assert f"<{URL}|Open the full report with charts>" in said and "Mon 9 Feb 09:00" in said
    assert message_problems(message) == []


def test_a_councils_summary_has_no_other_council(seeded: Session) -> None:
    message = summary_of(build_report(seeded, start=START, end=END, council_id="fife", now=NOW))
    said = flat(message)
    assert "SLA report: Fife Council" in said and "100 % (3 of 3)" in said and "*Breaches*\n0" in said
    assert "Cherwell" not in said and "•" not in said


def test_a_running_period_says_so(seeded: Session) -> None:
    report = build_report(seeded, start=date(2026, 2, 1), end=date(2026, 2, 28), council_id=None, now=NOW)
    said = flat(summary_of(report, date(2026, 2, 1), date(2026, 2, 28)))
    assert "period still running" in said and "nothing due" in said


def test_names_are_escaped_and_many_councils_are_cut_short(seeded: Session) -> None:
    report = build_report(seeded, start=START, end=END, council_id=None, now=NOW)
    hostile = replace(report.councils[0].figures, council_name="<!channel> & Co")
    many = replace(report, councils=tuple(replace(report.councils[0], figures=hostile) for _ in range(30)))
    message = summary_of(many)
    said = flat(message)
    assert "<!channel>" not in said and "&lt;!channel&gt; &amp; Co" in said
    assert "and 10 more in the full report" in said
    assert message_problems(message) == []
