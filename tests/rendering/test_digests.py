"""Rendered digests: the exact mrkdwn posted, Slack escaping, length caps, and charts that decode."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import UndefinedError
from PIL import Image
from sqlmodel import Session

from desk.rendering import charts
from desk.rendering.digests import (
    SECTION_LIMIT,
    age,
    clip,
    environment,
    refs,
    render_council,
    render_managers,
    slack,
    when,
)
from desk.services import digests, tickets
from desk.services.digest_stats import AtRisk, Breach, TicketLine
from tests.services.test_digests import END, WEEK, at, seed_week

COUNCIL_W03 = """\
*Weekly digest for Cherwell District Council: 2026-W03*
Mon 5 Jan 09:00 to Mon 12 Jan 09:00

*Opened:* 7 (CHW-3, CHW-4, CHW-5, CHW-6, CHW-7, CHW-8, CHW-9)
*Resolved:* 3 (CHW-3, CHW-4, CHW-6)
*Still open:* 5 (CHW-1, CHW-5, CHW-7, CHW-8, CHW-9)
*Waiting on you:* 1 (CHW-5)
*Oldest open:* CHW-1 Bank file rejected, opened Fri 2 Jan 10:00 (9d 23h ago)

*At risk* (due by Mon 12 Jan 17:00): 2
• CHW-8 P2 Card machine offline: respond due Mon 12 Jan 09:30
• CHW-9 P3 Report totals look off: respond due Mon 12 Jan 14:00

*Breached this week:* 4
• CHW-4 P2 Reconciliation totals wrong: respond target missed Tue 6 Jan 10:30
• CHW-4 P2 Reconciliation totals wrong: resolve target missed Wed 7 Jan 10:30
• CHW-1 P3 Bank file rejected: resolve target missed Wed 7 Jan 12:30
• CHW-7 P3 Receipts not printing: respond target missed Fri 9 Jan 10:00

*First response on time:* 3 of 5 (60%), missed: CHW-4, CHW-7
*Resolved on time:* 3 of 4 (75%), missed: CHW-4"""


def png_size(data: bytes | None) -> tuple[str | None, tuple[int, int]]:
    assert data is not None
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.format, image.size


def test_the_council_digest_text_and_chart(session: Session) -> None:
    seed_week(session)
    rendered = render_council(digests.council_digest(session, council_id="cherwell", week=WEEK))
    assert rendered.text == COUNCIL_W03
    assert png_size(rendered.chart_png) == ("PNG", (640, 320))
    assert rendered.chart_title == "Cherwell District Council: requests opened and resolved per day, 2026-W03"
    assert len(rendered.sections) == 5 and all(len(s) <= SECTION_LIMIT for s in rendered.sections)


def test_the_managers_digest_text_and_chart(session: Session) -> None:
    seed_week(session)
    rendered = render_managers(digests.managers_digest(session, week=WEEK))
    sections = rendered.sections
    assert sections[0] == "*Managers' digest: 2026-W03*\nMon 5 Jan 08:00 to Mon 12 Jan 08:00 (UK time)"
    assert sections[1] == ("*All councils:* 7 opened, 4 resolved; first response 4 of 6 (67%); "
                           "resolution 4 of 5 (80%)")
    assert sections[2] == "*Belfast City Council:* no requests this week"
    assert sections[3].splitlines()[2] == ("• P2: 2 opened, 1 resolved; first response 0 of 1 (0%); "
                                           "resolution 0 of 1 (0%)")
    assert sections[5].splitlines() == [
        "*Breaches this week:* 4", "• cherwell CHW-4 P2 respond, Tue 6 Jan 10:30",
        "• cherwell CHW-4 P2 resolve, Wed 7 Jan 10:30", "• cherwell CHW-1 P3 resolve, Wed 7 Jan 12:30",
        "• cherwell CHW-7 P3 respond, Fri 9 Jan 10:00"]
    assert "FIFE-1" not in rendered.text  # managers see Fife's figures, not a list of its tickets
    assert png_size(rendered.chart_png) == ("PNG", (640, 320))


def test_a_week_with_no_tickets(session: Session) -> None:
    council = render_council(digests.council_digest(session, council_id="cherwell", week=WEEK))
    assert council.text == ("*Weekly digest for Cherwell District Council: 2026-W03*\n"
                            "Mon 5 Jan 09:00 to Mon 12 Jan 09:00\n\n"
                            "No requests this week: nothing opened, resolved, breached or left open.")
    assert png_size(council.chart_png) == ("PNG", (640, 320))
    managers = render_managers(digests.managers_digest(session, week=WEEK))
    assert "*All councils:* No requests this week" in managers.text
    assert "*Breaches this week:* none" in managers.text
    assert png_size(managers.chart_png) == ("PNG", (640, 320))


def test_what_people_typed_is_escaped(session: Session) -> None:
    tickets.open_ticket(session, council_id="cherwell", title="<!channel> & <@U0BOSS> <https://x.test|pay>",
                        at=at(12, 8), actor="U0COUNCIL", priority="P2")
    text = render_council(digests.council_digest(session, council_id="cherwell", week=WEEK)).text
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; &lt;https://x.test|pay&gt;" in text
    assert "<" not in text.replace("&lt;", "") and "&amp;lt;" not in text


def test_long_weeks_are_capped_within_slacks_section_limit(session: Session) -> None:
    seed_week(session)
    d = digests.council_digest(session, council_id="cherwell", week=WEEK)
    hostile = TicketLine("CHW-999999", 999999, "<&>" * 100, "P2", "new", at(5, 10))
    many = replace(d, at_risk=tuple(AtRisk(hostile, "respond", END) for _ in range(50)),
                   breaches=tuple(Breach(hostile, "resolve", 1, at(6, 10)) for _ in range(50)),
                   still_open=tuple(hostile for _ in range(500)))
    rendered = render_council(many)
    assert all(len(section) <= SECTION_LIMIT for section in rendered.sections)
    assert "• and 40 more" in rendered.text and "CHW-999999 and 488 more)" in rendered.text
    assert "&lt;&amp;&gt;&lt;&amp;&gt;" in rendered.text and "&am…" not in rendered.text


def test_filters() -> None:
    assert slack("a & <b>") == "a &amp; &lt;b&gt;"
    assert clip("x" * 10 + "&amp;", 13) == "x" * 10 + "…"  # never half an entity
    assert when(datetime(2026, 7, 6, 8, tzinfo=UTC), "Europe/London") == "Mon 6 Jul 09:00"
    assert [age(timedelta(minutes=m)) for m in (40, 310, 60 * 49)] == ["40m", "5h 10m", "2d 1h"]
    assert refs(["A", "B", "C"], limit=2) == " (A, B and 1 more)" and refs([]) == ""
    with pytest.raises(UndefinedError):
        environment().from_string("{{ missing }}").render()


def test_charts_scale_and_mark_what_cannot_be_measured() -> None:
    series = [charts.Series("a", charts.BLUE, (0, 3, None)), charts.Series("b", charts.GREEN, (1, 0, 2))]
    first = charts.bars("T", ["x", "y", "z"], series)
    assert first == charts.bars("T", ["x", "y", "z"], series)  # deterministic
    assert png_size(first) == ("PNG", charts.SIZE)
    names = [f"A council with a very long name {n}" for n in range(12)]
    percent = [charts.Series("r", charts.BLUE, tuple(range(0, 120, 10)))]  # 110 % is drawn at the top
    assert png_size(charts.bars("T", names, percent, top=100, suffix="%")) == ("PNG", charts.SIZE)
    assert [charts._nice(n) for n in (1, 3, 7, 13, 41, 130, 1234)] == [1, 3, 8, 15, 50, 200, 2000]
