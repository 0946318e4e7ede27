"""The report in every format says the hand-computed figures of tests/services/test_reports.py.

Each format is read back the way a person or a spreadsheet would (JSON keys, the CSV's rows through the
documented definitions, numbers parsed out of the Markdown tables and the HTML cells) into the shape of
EXPECTED, and compared with it: one set of figures, four formats.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest
from sqlmodel import Session

from desk.db.tables import CouncilRow
from desk.rendering import reports as rendering
from desk.rendering import svg
from desk.services import reports
from tests.services.test_reports import AS_OF, BREACHES, EXPECTED, LATER, WEEKS, build, jan, seed

NAMES = {"All councils": "all", "Belfast City Council": "belfast", "Cherwell District Council": "cherwell",
         "Fife Council": "fife"}
COLUMNS = ("ref,council,priority,status,opened_at,first_response_at,respond_due_at,respond_met,"
           "respond_decided_at,resolved_at,resolve_cycles,first_cycle_met,first_cycle_decided_at,"
           "all_cycles_met,all_cycles_decided_at,paused_seconds,reopened,rating,rated_at,"
           "respond_business_seconds,resolve_business_seconds,problem").split(",")


@pytest.fixture
def report(session: Session) -> reports.SlaReport:
    seed(session)
    return build(session)


def half_up(value: float | Decimal) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- reading text back -----------------------------------------------------------------------------


def rate(text: str) -> tuple:
    """'6 of 8 (75%)' -> (6, 8, 75); 'nothing due' -> (0, 0, None)."""
    if text == "nothing due":
        return (0, 0, None)
    met, total, pct = map(int, re.fullmatch(r"(\d+) of (\d+) \((\d+)%\)", text).groups())
    return (met, total, pct)


def seconds(text: str) -> int | None:
    """'34h54m' -> 125640; '—' -> None."""
    if text == "—":
        return None
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text).groups()
    hours, minutes, secs = (int(p or 0) for p in parts)
    return hours * 3600 + minutes * 60 + secs


def shaped(c: dict[str, str]) -> tuple:
    """The cells of one council/priority row (by figure name) in the shape of EXPECTED."""
    reopened = (0, None) if c["reopened"] == "—" else rate(c["reopened"])[::2]
    return (int(c["opened"]), int(c["resolved"]), rate(c["respond"]), rate(c["resolve_first_cycle"]),
            rate(c["resolve_all_cycles"]),
            (int(c["responses"]), seconds(c["respond_median"]), seconds(c["respond_p90"])),
            (int(c["resolutions"]), seconds(c["resolve_median"]), seconds(c["resolve_p90"])),
            seconds(c["paused"]), *reopened,
            (int(c["ratings"]), None if c["mean_score"] == "—" else c["mean_score"]),
            tuple(int(c[f"backlog_{key}"]) for key in ("under_1d", "1d_3d", "3d_7d", "7d_30d", "over_30d")))


# -- the formats -----------------------------------------------------------------------------------


def test_json(report: reports.SlaReport) -> None:
    doc = json.loads(json.dumps(rendering.to_json(report)))

    def shape(f: dict) -> tuple:
        def r(c: dict) -> tuple:
            return (c["met"], c["total"], c["percent"])

        def t(d: dict) -> tuple:
            return (d["count"], d["median_seconds"], d["p90_seconds"])

        mean = f["satisfaction"]["mean"]
        return (f["opened"]["count"], f["resolved"]["count"], r(f["first_response_on_time"]),
                r(f["resolved_on_time_first_cycle"]), r(f["resolved_on_time_all_cycles"]),
                t(f["time_to_first_response"]), t(f["time_to_resolution"]), f["paused_seconds"],
                f["reopened"]["count"], f["reopened"]["rate_percent"],
                (f["satisfaction"]["count"], None if mean is None else f"{mean:.2f}"),
                tuple(b["count"] for b in f["backlog"]["buckets"]))

    found = {("all", "all"): shape(doc["overall"])}
    for council in doc["councils"]:
        for f in [council["figures"], *council["priorities"]]:
            found[(council["id"], f["priority"])] = shape(f)
    assert found == EXPECTED
    assert (doc["period"]["from"], doc["period"]["to"], doc["as_of"]) == ("2026-01-05", "2026-01-16",
                                                                          AS_OF.isoformat())
    assert [(b["ref"], b["metric"], b["cycle"], b["breached_at"]) for b in doc["breaches"]] == [
        (ref, metric, cycle, at.isoformat()) for ref, metric, cycle, at in BREACHES]
    assert [(w["week"], w["opened"], w["resolved"], tuple(w["first_response_on_time"][k] for k in
             ("met", "total", "percent"))) for w in doc["weeks"]] == WEEKS
    assert [t["ref"] for t in doc["tickets"]] == [
        "CHW-1", "CHW-2", "CHW-3", "CHW-4", "CHW-5", "CHW-6", "CHW-7", "FIFE-1", "FIFE-2", "FIFE-3"]
    assert list(doc["tickets"][0]) == COLUMNS


def recompute(rows: list[dict[str, str]], council: str, priority: str) -> tuple:
    """Every figure from the CSV alone, by docs/reports.md (no desk code): what a council can do."""
    start, end = jan(5, 0), jan(17, 0)
    rows = [r for r in rows if council in ("all", r["council"]) and priority in ("all", r["priority"])]

    def inside(value: str) -> bool:
        return value != "" and start <= datetime.fromisoformat(value) < end

    def compliance(met: str, decided_at: str) -> tuple:
        decided = [r[met] == "true" for r in rows if r[met] and inside(r[decided_at])]
        return (sum(decided), len(decided), half_up(100 * sum(decided) / len(decided)) if decided else None)

    def times(value: str, ended_at: str) -> tuple:
        found = sorted(int(r[value]) for r in rows if inside(r[ended_at]))
        if not found:
            return (0, None, None)
        p90 = found[0] if len(found) == 1 else statistics.quantiles(found, n=10, method="inclusive")[8]
        return (len(found), half_up(statistics.median(found)), half_up(p90))

    resolved = [r for r in rows if inside(r["resolved_at"])]
    reopened = sum(r["reopened"] == "true" for r in resolved)
    scores = [int(r["rating"]) for r in rows if inside(r["rated_at"])]
    ages = [(AS_OF - datetime.fromisoformat(r["opened_at"])).total_seconds() / 86400 for r in rows
            if r["status"] in ("new", "in_progress", "waiting_on_council")]
    return (sum(inside(r["opened_at"]) for r in rows), len(resolved),
            compliance("respond_met", "respond_decided_at"),
            compliance("first_cycle_met", "first_cycle_decided_at"),
            compliance("all_cycles_met", "all_cycles_decided_at"),
            times("respond_business_seconds", "first_response_at"),
            times("resolve_business_seconds", "resolved_at"),
            sum(int(r["paused_seconds"]) for r in resolved), reopened,
            half_up(100 * reopened / len(resolved)) if resolved else None,
            (len(scores), f"{Decimal(sum(scores)) / len(scores):.2f}" if scores else None),
            tuple(sum(low <= age < high for age in ages) for low, high in
                  ((0, 1), (1, 3), (3, 7), (7, 30), (30, 10**6))))


def test_csv_rows_recompute_every_figure(report: reports.SlaReport) -> None:
    text = rendering.to_csv(report)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == COLUMNS
    assert {key: recompute(rows, *key) for key in EXPECTED} == EXPECTED
    chw4 = next(r for r in rows if r["ref"] == "CHW-4")
    assert (chw4["opened_at"], chw4["respond_met"], chw4["rating"], chw4["first_response_at"]) == (
        "2026-01-06T14:00:00+00:00", "false", "2", "2026-01-06T15:30:00+00:00")


def markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Each `## heading`'s table rows (header and rule dropped), cells stripped."""
    tables: dict[str, list[list[str]]] = {}
    for section in text.split("\n## ")[1:]:
        heading, _, body = section.partition("\n")
        lines = [line for line in body.splitlines() if line.startswith("| ")]
        tables[heading] = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]
    return tables


def test_markdown(report: reports.SlaReport) -> None:
    text = rendering.to_markdown(report)
    tables = markdown_tables(text)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    names = {"Volumes and compliance": ("opened", "resolved", "respond", "resolve_first_cycle",
                                        "resolve_all_cycles", "reopened"),
             "Times, pauses and satisfaction": ("responses", "respond_median", "respond_p90", "resolutions",
                                                "resolve_median", "resolve_p90", "paused", "ratings",
                                                "mean_score"),
             "Backlog by age at Fri 16 Jan 2026 23:59:59": tuple(
                 f"backlog_{k}" for k in ("under_1d", "1d_3d", "3d_7d", "7d_30d", "over_30d", "total"))}
    for heading, figures in names.items():
        for council, priority, *values in tables[heading]:
            cells.setdefault((NAMES[council], priority), {}).update(zip(figures, values, strict=True))
    assert {key: shaped(c) for key, c in cells.items()} == EXPECTED
    assert [row[0::3] for row in tables["Weekly trend"]] == [["2026-W02", "4"], ["2026-W03", "3"]]
    assert [rate(row[5]) for row in tables["Weekly trend"]] == [w[3] for w in WEEKS]
    assert tables["Satisfaction"] == [["Count", "0", "1", "1", "1", "1", "4", "3.50"]]
    assert "- CHW-4 (cherwell, P2): resolution (cycle 2) target missed Tue 13 Jan 2026 11:00" in text
    assert text.startswith("# SLA report: All councils\n\n5 Jan 2026 to 16 Jan 2026 (UK time). "
                           "Figures as of Fri 16 Jan 2026 23:59:59.\n")


class Cells(HTMLParser):
    """Collects the text of every `data-figure` cell under its row's data-council/data-priority (or week)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.row: tuple[str, str] | None = None
        self.figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-council" in found:
            self.row = (str(found["data-council"]), str(found["data-priority"]))
        elif "data-week" in found:
            self.row = ("week", str(found["data-week"]))
        if "data-figure" in found and self.row is not None:
            self.figure = str(found["data-figure"])
            self.rows.setdefault(self.row, {})[self.figure] = ""

    def handle_data(self, data: str) -> None:
        if self.figure is not None and self.row is not None:
            self.rows[self.row][self.figure] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "strong"):
            self.figure = None


def test_html(report: reports.SlaReport) -> None:
    page = rendering.to_html(report, generated_at=LATER)
    parser = Cells()
    parser.feed(page)
    figures = {key: shaped(c) for key, c in parser.rows.items() if key[0] != "week"}
    assert figures == EXPECTED
    assert [(key[1], int(c["opened"]), int(c["resolved"]), rate(c["respond"]))
            for key, c in parser.rows.items() if key[0] == "week"] == WEEKS
    assert page.count("<svg") == 4 and "@media print" in page and "break-before: page" in page
    assert [ref for ref, *_ in BREACHES] == re.findall(r'<tr data-breach="([A-Z]+-\d+)">', page)
    assert re.findall(r'<tr data-ref="([A-Z]+-\d+)">', page) == [f.ref for f in report.tickets]
    assert "Generated Mon 2 Mar 2026 12:00" in page and "How these figures are computed" in page


def test_the_page_is_self_contained_and_escaped(session: Session) -> None:
    seed(session)
    fife = session.get(CouncilRow, "fife")
    assert fife is not None
    fife.name = "Fife <script>alert(1)</script> | & Co"
    session.add(fife)
    report = build(session)
    page = rendering.to_html(report, generated_at=LATER)
    for outside in ("http:", "https:", "//", "<script", "src=", "url(", "@import", "<link"):
        assert outside not in page.replace("<!DOCTYPE html>", ""), outside
    links = re.findall(r'href="([^"]*)"', page)  # the skip link and contents: places in this page only
    assert links and all(re.fullmatch(r"#[a-z]+", link) for link in links), links
    assert {link[1:] for link in links} <= set(re.findall(r'id="([a-z]+)"', page))
    assert "Fife &lt;script&gt;alert(1)&lt;/script&gt; | &amp; Co" in page
    assert "| Fife <script>alert(1)</script> \\| & Co | all | 2 | 2 |" in rendering.to_markdown(report)


def test_an_empty_report_in_every_format(session: Session) -> None:
    report = build(session, council="belfast")
    assert rendering.to_csv(report).splitlines() == [",".join(COLUMNS)]
    assert rendering.to_json(report)["tickets"] == [] and rendering.to_json(report)["breaches"] == []
    text = rendering.to_markdown(report)
    assert "No tickets were open at any time in this period." in text and "None in this period." in text
    assert "| Belfast City Council | all | 0 | 0 | nothing due | nothing due | nothing due | — |" in text
    page = rendering.to_html(report, generated_at=LATER)
    for message in ("No targets came due in this period", "Nothing opened or resolved in this period",
                    "No response targets came due in this period", "No open tickets"):
        assert message in page


def test_bars_are_scaled_to_the_data_with_labels_and_an_axis() -> None:
    chart = str(svg.hbars("On time", ["Cherwell <DC>", "Fife"],
                          [svg.Series("first response", svg.BLUE, (50, None))], top=100, suffix="%"))
    widths = [float(w) for w in re.findall(r'<rect x="210.0" y="[\d.]+" width="([\d.]+)"', chart)]
    assert widths == [(640 - 210 - 48) / 2]  # 50 % of the plot; None draws no bar but says n/a
    assert "Cherwell &lt;DC&gt;" in chart and ">n/a<" in chart and ">100%<" in chart and ">50%<" in chart
    bars = str(svg.vbars("Per week", ["W1", "W2"], [svg.Series("opened", svg.BLUE, (4, 2))]))
    rects = r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"'
    heights = [float(h) for h in re.findall(rects, bars)]
    assert heights[1:] == [heights[1], heights[1] / 2] and ">4<" in bars  # the legend's swatch first
    trend = str(svg.line("Trend", ["W1", "W2", "W3", "W4"],
                         [svg.Series("on time", svg.BLUE, (80, None, 50, 60))]))
    assert trend.count("<polyline") == 1 and trend.count("<circle") == 3  # the gap splits the line
    assert "No data" in str(svg.vbars("Empty", [], [], empty="No data"))


def test_each_chart_is_followed_by_its_figures_as_a_captioned_table() -> None:
    series = [svg.Series("first response", svg.BLUE, (50, None)), svg.Series("resolution", svg.GREEN, (25, 100))]
    drawn = svg.hbars("On time", ["Cherwell <DC>", "Fife"], series, top=100, suffix="%")
    table = svg.data_table("On time", ["Cherwell <DC>", "Fife"], series, suffix="%", label_header="Council")
    page = str(svg.figure(drawn, "On time", table))
    assert page.startswith("<figure><svg") and "</svg><figcaption>On time. The same figures follow" in page
    assert "<caption>On time: the figures</caption>" in page
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', page)
    assert rows == [("Cherwell &lt;DC&gt;", "50%", "25%"), ("Fife", "n/a", "100%")]
    assert re.findall(r'<th scope="col">([^<]*)</th>', page) == ["Council", "first response", "resolution"]
    empty = str(svg.figure(svg.vbars("Per week", [], [], empty="Nothing"), "Per week", None, empty="Nothing"))
    assert "<table" not in empty and "<figcaption>Per week: Nothing.</figcaption>" in empty
    assert svg.nothing_to_plot([], series) and svg.nothing_to_plot(["W1"], [svg.Series("x", svg.BLUE, (0,))])
    assert not svg.nothing_to_plot(["W1"], [svg.Series("x", svg.BLUE, (0,))], top=100)


def test_chart_colours_contrast_with_the_page_as_wcag_asks_of_graphics() -> None:
    """WCAG 1.4.11: bars and lines at least 3:1 against the white page (axe-core does not check SVG fills)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in (*rendering.PALETTE, svg.BLUE, svg.GREEN, svg.ORANGE, svg.INK, svg.MUTED):
        assert 1.05 / (luminance(colour) + 0.05) >= 3, colour


def test_the_page_has_landmarks_captions_and_scoped_headers(session: Session) -> None:
    seed(session)
    page = rendering.to_html(build(session), generated_at=LATER)
    assert re.search(r'<body>\s*<a class="skip-link" href="#main">', page)
    assert page.count("<main") == 1 and '<nav class="contents" aria-label="Contents">' in page
    tables = re.findall(r"<table\b.*?</table>", page, flags=re.S)
    assert len(tables) == 11 and all("<caption" in table for table in tables)
    assert not re.search(r"<th(?=[ >])(?![^>]*scope=)[^>]*>", page), "every header cell says what it heads"
    headings = [int(level) for level in re.findall(r"<h([1-6])\b", page)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False))
