"""`desk report sla`: the SLA report for whole UK days, in md (default), csv, json or html.

Thin like the other commands: parse the options (naming the one at fault), build the report with
`desk.services.reports`, print it with `desk.rendering.reports`. Every format comes from one model.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from desk.cli.output import require_schema
from desk.cli.progress import meter
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.errors import InvalidInput, NotFound
from desk.rendering import reports as rendering
from desk.services import reports
from desk.services.report_figures import Period
from desk.wiring import Wiring

app = typer.Typer(help="Reports: SLA compliance per council and priority.", no_args_is_help=True)


class Format(StrEnum):
    MD = "md"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.command("sla")
def sla(
    from_: Annotated[str, typer.Option("--from", help="First day, e.g. 2026-01-01 (UK time).")],
    to: Annotated[str, typer.Option("--to", help="Last day, included, e.g. 2026-01-31.")],
    council: Annotated[str | None, typer.Option(help="Only this council (default: every council).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="md, csv, json or html.")] = Format.MD,
    out: Annotated[Path | None, typer.Option(help="Write the report to this file instead of stdout.",
                                             dir_okay=False)] = None,
) -> None:
    """The SLA report for --from to --to inclusive, as of the period's end (or now, while it runs)."""
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    if start > end:
        raise InvalidInput(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    wiring = Wiring.from_environ()
    require_schema(wiring)
    now = wiring.clock.now()
    if Period.of(start, end).starts_at > now:
        raise InvalidInput(f"--from {start.isoformat()} is in the future: there is nothing to report yet")
    with (unit_of_work(wiring.engine) as session,
          meter("replaying tickets", unit="tickets", streams_to_stdout=out is None) as done):
        report = reports.build_report(session, start=start, end=end, council_id=_council(session, council),
                                      now=now, progress=done)
    text = render(report, fmt, now)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8", newline="")
    print(f"{fmt} report written to {out}", file=sys.stderr)


def render(report: reports.SlaReport, fmt: Format, now: datetime) -> str:
    match fmt:
        case Format.CSV:
            return rendering.to_csv(report)
        case Format.JSON:
            return json.dumps(rendering.to_json(report), indent=2, ensure_ascii=False) + "\n"
        case Format.HTML:
            return rendering.to_html(report, generated_at=now)
        case _:
            return rendering.to_markdown(report)


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a date like 2026-01-31") from None


def _council(session: Session, council: str | None) -> str | None:
    if council is None:
        return None
    try:
        return queries.get_council(session, council).id
    except NotFound as err:
        raise NotFound(f"--council: {err}") from None
