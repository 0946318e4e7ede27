"""The SLA report in every format from one `SlaReport`: JSON, CSV, Markdown and one printable HTML page.

No format computes a figure: each prints the model's (`desk.services.report_figures`), so they agree by
construction, and the CSV's rows are the very facts those figures were computed from.

The HTML page is self-contained on purpose (it is mailed, archived and printed for governance meetings):
inline CSS with print rules, charts as inline SVG (`svg.py`), no script, no font, image or link to fetch.
It is rendered with autoescape on (council names and refs are escaped); the Markdown with it off, its
table cells through `cell`, which neutralises `|` and line breaks.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator
from dataclasses import fields
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from desk.rendering import svg
from desk.rendering.digests import rate
from desk.services.digest_stats import Compliance
from desk.services.report_figures import Durations, Figures, TicketFacts
from desk.services.reports import SlaReport

CSV_COLUMNS = tuple(field.name for field in fields(TicketFacts))
PALETTE = (svg.BLUE, svg.GREEN, svg.ORANGE, "#4c2c92", "#5694ca", "#85994b", "#d4351c", "#912b88")

# What each figure means, shown in the Markdown and HTML reports (docs/reports.md says it at length).
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Period", "Whole days in UK time, first to last inclusive. Every ticket is replayed from its history "
     "through the SLA engine as of the period's last second (or now, while the period runs), so a report "
     "re-run later gives the same figures."),
    ("Opened", "Tickets opened in the period."),
    ("Resolved", "Tickets whose latest resolution falls in the period (once each, however many cycles)."),
    ("First response on time", "Response targets whose outcome became known in the period: met when support "
     "first replied (or resolved) by the due time, missed at the due time whether answered later or not."),
    ("Resolved on time, first cycle", "The first resolve cycle of each ticket, counted in the period its "
     "outcome became known: met when resolved by the due time, missed at the due time."),
    ("Resolved on time, all cycles", "Per ticket: missed at the first cycle that missed; met once every "
     "cycle (the first and each reopening) was resolved on time, counted at the latest resolution."),
    ("Time to first response / resolution", "From opening to the first reply / the latest resolution, in "
     "working time on the council's calendar (real time for priorities on a 24x7 clock), for replies / "
     "resolutions in the period. Median and 90th percentile as a spreadsheet's MEDIAN and PERCENTILE.INC, "
     "to the second."),
    ("Paused", "For tickets resolved in the period: the time their resolve clocks stood still while waiting "
     "on the council, in working time. Time to resolution includes it."),
    ("Reopened", "Tickets resolved in the period that had been reopened at least once, out of those "
     "resolved."),
    ("Backlog", "Tickets open (new, in progress or waiting on the council) at the report's instant, by real "
     "time since opening."),
    ("Breaches", "Every response target or resolve cycle whose due time passed unmet in the period."),
    ("Satisfaction", "Ratings (1 to 5) given in the period: each ticket's latest rating."),
    ("Priority", "The ticket's priority at the report's instant (after any change)."),
    ("Problem", "The shared problem (PRB-n) a ticket was linked to at the report's instant: one fault behind "
     "several councils' tickets (docs/problems.md)."),
)


def to_json(report: SlaReport) -> dict[str, Any]:
    """The whole report as one JSON-able document with stable keys (instants ISO 8601 with offset)."""
    return {
        "report": "sla", "title": report.title, "council": report.council_id,
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat(),
                   "starts_at": report.period.starts_at.isoformat(),
                   "ends_at": report.period.ends_at.isoformat(),
                   "timezone": report.timezone},
        "as_of": report.as_of.isoformat(), "complete": report.complete,
        "overall": _figures(report.overall),
        "councils": [{"id": c.council_id, "name": c.council_name, "figures": _figures(c.figures),
                      "priorities": [_figures(row) for row in c.priorities]} for c in report.councils],
        "weeks": [{"week": w.key, "from": w.period.start.isoformat(), "to": w.period.end.isoformat(),
                   "opened": len(w.figures.opened), "resolved": len(w.figures.resolved),
                   "first_response_on_time": _compliance(w.figures.respond)} for w in report.weeks],
        "breaches": [{"council": b.council_id, "ref": b.ref, "priority": b.priority, "metric": b.metric,
                      "cycle": b.cycle, "breached_at": b.breached_at.isoformat()} for b in report.breaches],
        "tickets": [{name: _plain(getattr(facts, name)) for name in CSV_COLUMNS} for facts in report.tickets],
    }


def to_csv(report: SlaReport) -> str:
    """One row per ticket counted (the `TicketFacts` columns, header first): enough to redo every figure."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for facts in report.tickets:
        writer.writerow([_csv_value(getattr(facts, name)) for name in CSV_COLUMNS])
    return buffer.getvalue()


def to_markdown(report: SlaReport) -> str:
    return _render("report.md.j2", report) + "\n"


def to_html(report: SlaReport, *, generated_at: datetime) -> str:
    return _render("report.html.j2", report, generated_at=generated_at, charts=charts(report))


def notice_html(title: str, sentence: str, advice: str) -> str:
    """The page for a refused or failed report link: a title, what happened, and what to do about it."""
    return _render_page("notice.html.j2", title=title, sentence=sentence, advice=advice)


def charts(report: SlaReport) -> dict[str, Markup]:
    """The page's charts, each followed by its figures as a table: compliance by council and priority,
    the weekly trend, backlog by age."""
    rows = [row for row in rows_of(report) if row.priority != "all" or len(report.councils) > 1]
    rows = [row for row in rows if row.respond.total or row.resolve_first_cycle.total]
    compliance = _chart(svg.hbars, "On time, by council and priority", [_label(row) for row in rows], [
        svg.Series("first response", svg.BLUE, tuple(row.respond.percent for row in rows)),
        svg.Series("resolution (first cycle)", svg.GREEN,
                   tuple(row.resolve_first_cycle.percent for row in rows))],
        label_header="Council and priority", top=100, suffix="%", empty="No targets came due in this period")
    weeks = [week.key for week in report.weeks]
    volume = _chart(svg.vbars, "Opened and resolved per week", weeks, [
        svg.Series("opened", svg.BLUE, tuple(len(w.figures.opened) for w in report.weeks)),
        svg.Series("resolved", svg.GREEN, tuple(len(w.figures.resolved) for w in report.weeks))],
        label_header="Week", empty="Nothing opened or resolved in this period")
    trend = _chart(svg.line, "First response on time per week", weeks, [
        svg.Series("first response on time", svg.BLUE,
                   tuple(w.figures.respond.percent for w in report.weeks))],
        label_header="Week", empty="No response targets came due in this period")
    buckets = [bucket.label for bucket in report.overall.backlog]
    series = [svg.Series(c.council_name, PALETTE[i % len(PALETTE)],
                         tuple(len(b.refs) for b in c.figures.backlog))
              for i, c in enumerate(report.councils) if c.figures.backlog_total]
    backlog = _chart(svg.vbars, f"Open tickets by age at {when(report.as_of)}", buckets, series,
                     label_header="Age", empty="No open tickets")
    return {"compliance": compliance, "volume": volume, "trend": trend, "backlog": backlog}


def _chart(draw, title: str, labels: list[str], series: list[svg.Series], *, label_header: str, empty: str,
           **options) -> Markup:
    """One chart in its figure, then its figures as a table (when it has any to show)."""
    drawn = draw(title, labels, series, empty=empty, **options)
    top = options.get("top", 100 if draw is svg.line else None)  # svg.line's own defaults
    suffix = options.get("suffix", "%" if draw is svg.line else "")
    table = (None if svg.nothing_to_plot(labels, series, top)
             else svg.data_table(title, labels, series, suffix=suffix, label_header=label_header))
    return svg.figure(drawn, title, table, empty=empty)


def rows_of(report: SlaReport) -> Iterator[Figures]:
    """The summary tables' rows: all councils (for a report on several), then each council, its priorities."""
    if report.council_id is None:
        yield report.overall
    for council in report.councils:
        yield council.figures
        yield from council.priorities


# -- filters ---------------------------------------------------------------------------------------


def when(at: datetime | None, timezone: str = "Europe/London") -> str:
    """'Fri 16 Jan 2026 23:59:59' (seconds only when not zero) in UK time; '—' for nothing."""
    if at is None:
        return "—"
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}" + (f":{local:%S}" if local.second else "")


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def span(seconds: int | None) -> str:
    """31h12m, 45m, 22m30s, 0m: working time reads best in hours (a working day is not 24h)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return "".join([f"{hours}h" if hours else "", f"{minutes}m" if minutes or not (hours or secs) else "",
                    f"{secs}s" if secs else ""])


def ratio(part: int, whole: int, percent: int | None) -> str:
    """'1 of 3 (33%)', or '—' when there is nothing to divide by."""
    return "—" if not whole else f"{part} of {whole} ({percent}%)"


def cell(value: object) -> str:
    """Text for a Markdown table cell: a `|` or a line break would split the row."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def yes_no(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "no"


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("desk", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(rate=rate, when=when, day=day, span=span, ratio=ratio, cell=cell, yes_no=yes_no)
    env.globals.update(DEFINITIONS=DEFINITIONS)
    return env


def _render_page(template: str, **values: object) -> str:
    return environment().get_template(template).render(**values)


def _render(template: str, report: SlaReport, **values: object) -> str:
    return environment().get_template(template).render(r=report, rows=list(rows_of(report)), **values)


def _label(row: Figures) -> str:
    if row.council_id == "all":
        return "All councils"
    return row.council_name if row.priority == "all" else f"{row.council_name} {row.priority}"


def _figures(f: Figures) -> dict[str, Any]:
    mean = f.satisfaction.mean
    return {
        "council": f.council_id, "priority": f.priority,
        "opened": {"count": len(f.opened), "refs": list(f.opened)},
        "resolved": {"count": len(f.resolved), "refs": list(f.resolved)},
        "first_response_on_time": _compliance(f.respond),
        "resolved_on_time_first_cycle": _compliance(f.resolve_first_cycle),
        "resolved_on_time_all_cycles": _compliance(f.resolve_all_cycles),
        "time_to_first_response": _durations(f.time_to_first_response),
        "time_to_resolution": _durations(f.time_to_resolution),
        "paused_seconds": f.paused_seconds,
        "reopened": {"count": len(f.reopened), "refs": list(f.reopened), "rate_percent": f.reopen_rate},
        "satisfaction": {"count": f.satisfaction.count, "mean": None if mean is None else float(mean),
                         "distribution": {str(k): n for k, n in f.satisfaction.distribution.items()},
                         "refs": [ref for ref, _ in f.satisfaction.scores]},
        "backlog": {"total": f.backlog_total, "buckets": [
            {"key": b.key, "label": b.label, "count": len(b.refs), "refs": list(b.refs)} for b in f.backlog]},
    }


def _compliance(c: Compliance) -> dict[str, Any]:
    return {"met": c.met, "total": c.total, "percent": c.percent, "missed": [o.ref for o in c.missed]}


def _durations(d: Durations) -> dict[str, Any]:
    return {"count": d.count, "median_seconds": d.median, "p90_seconds": d.p90,
            "refs": [ref for ref, _ in d.values]}


def _csv_value(value: object) -> object:
    """Empty for None, true/false for booleans, ISO 8601 with offset for instants."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value
