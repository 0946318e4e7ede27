"""`desk digest preview|send`: see a week's digest exactly as it would be posted, or queue it.

`send` only writes outbox rows (the dispatcher posts them, as it does for the worker's own schedule), so
the CLI and the worker share one guarantee: a council's week goes out once, unless `--force`.
`--council managers` means the managers' digest throughout.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from desk.cli.output import local, require_schema
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow
from desk.errors import NotFound
from desk.rendering.digests import RenderedDigest, render_council, render_managers
from desk.services import digests
from desk.services.digest_weeks import MANAGERS_SCHEDULE, parse_week, week_of
from desk.wiring import Wiring

app = typer.Typer(help="Weekly digests: preview them, queue them for sending.", no_args_is_help=True)

MANAGERS = "managers"

CouncilOption = Annotated[str, typer.Option(help="Council id, or 'managers' for the managers' digest.")]
WeekOption = Annotated[str | None, typer.Option(
    help="ISO week, e.g. 2026-W02 (default: this week, in the council's timezone).")]


@app.command("preview")
def preview(
    council: CouncilOption,
    week: WeekOption = None,
    chart: Annotated[Path | None, typer.Option(help="Also write the chart (PNG) to this file.",
                                               dir_okay=False)] = None,
) -> None:
    """Print exactly the text that would be posted for the week (computed now, as of its instant)."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        rendered = render(session, council, week, wiring.clock.now())
    sys.stdout.write(rendered.text + "\n")
    if chart is not None and rendered.chart_png is not None:
        chart.write_bytes(rendered.chart_png)
        print(f"chart written to {chart}: {rendered.chart_title}", file=sys.stderr)


@app.command("send")
def send(
    council: Annotated[str | None, typer.Option(
        help="Council id, or 'managers' (default: every council with a digest, and the managers').")] = None,
    week: WeekOption = None,
    force: Annotated[bool, typer.Option("--force", help="Queue again a week already queued or sent.")] = False,
) -> None:
    """Queue digests for the dispatcher; a week already queued or sent is reported, not queued again."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    now = wiring.clock.now()
    with unit_of_work(wiring.engine) as session:
        targets = [council] if council else everyone(session)
        lines = [queue(session, target, week, now, force=force) for target in targets]
    for line in lines:
        print(line)
    if not lines:
        print("no council has a digest schedule")


def render(session: Session, council: str, week: str | None, now: datetime) -> RenderedDigest:
    if council == MANAGERS:
        chosen = _week(week, now, MANAGERS_SCHEDULE.timezone)
        return render_managers(digests.managers_digest(session, week=chosen))
    row = _council(session, council)
    schedule = digests.schedule_of(session, row)
    return render_council(digests.council_digest(session, council_id=row.id,
                                                 week=_week(week, now, schedule.timezone)))


def everyone(session: Session) -> list[str]:
    """What a bare `send` covers: the councils `enqueue_due` would serve, and the managers' digest."""
    targets = [row.id for row in queries.list_councils(session) if row.active and row.digest]
    support = queries.find_support_config(session)
    return targets + ([MANAGERS] if support and support.definition.get("service_managers") else [])


def queue(session: Session, council: str, week: str | None, now: datetime, *, force: bool) -> str:
    """Queue one digest; the line says what happened: queued, or already queued/sent."""
    if council == MANAGERS:
        chosen = _week(week, now, MANAGERS_SCHEDULE.timezone)
        row = digests.enqueue_managers(session, week=chosen, at=now, force=force)
        key = digests.managers_key(chosen)
    else:
        found = _council(session, council)
        chosen = _week(week, now, digests.schedule_of(session, found).timezone)
        row = digests.enqueue(session, council_id=found.id, week=chosen, at=now, force=force)
        key = digests.digest_key(found.id, chosen)
    if row is not None:
        later = f" (posts {local(row.available_at)})" if row.available_at > now else ""
        return f"{council} {chosen}: queued{' again' if ':force:' in row.idempotency_key else ''}{later}"
    earlier = digests.latest(session, key)
    state = "already sent" if earlier is not None and earlier.status == "sent" else "already queued"
    return f"{council} {chosen}: {state} (use --force)"


def _council(session: Session, council: str) -> CouncilRow:
    try:
        return queries.get_council(session, council)
    except NotFound as err:
        raise NotFound(f"--council: {err}") from None


def _week(week: str | None, now: datetime, timezone: str) -> str:
    return parse_week(week, name="--week") if week is not None else week_of(now, timezone)
