"""`desk rota show`: who is duty lead and on duty now (or at `--at`), and when the next handover is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from desk.cli.output import LONDON, JsonOption, local, print_json, require_schema
from desk.db.engine import unit_of_work
from desk.errors import InvalidInput
from desk.services import rota
from desk.wiring import Wiring

app = typer.Typer(help="The support duty rota (support.rota in councils.yaml).", no_args_is_help=True)


@app.command("show")
def show(
    at: Annotated[str | None, typer.Option(
        "--at", help="An instant, e.g. 2026-04-07T09:00 (UK local time) or 2026-04-07T08:00Z (default: now).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Who is on duty, the week's rota entry, who is away, and the next handover."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    when = parse_when(at) if at is not None else wiring.clock.now()
    with unit_of_work(wiring.engine) as session:
        found = rota.on_duty(session, at=when)
    duty = found.duty
    document = {
        "at": found.at, "duty_lead": found.duty_lead, "fallback_duty_lead": found.fallback,
        "rota": duty is not None,
        "week": duty.week.isoformat() if duty else None, "source": duty.source if duty else None,
        "rostered_lead": duty.rostered_lead if duty else None,
        "engineers": list(duty.engineers) if duty else [], "on_leave": list(duty.on_leave) if duty else [],
        "handover_at": duty.began_at if duty else None, "next_handover_at": duty.next_handover_at if duty else None,
    }
    if as_json:
        print_json(document)
        return
    print(f"at {local(found.at)}")
    if duty is None:
        print(f"no rota: the duty lead is support.duty_lead ({found.fallback or 'none'})")
        return
    lead = found.duty_lead or "—"
    if duty.source is None:
        print(f"the rota names nobody for the week of {duty.week}: duty lead {lead} (support.duty_lead)")
    elif duty.duty_lead is None:
        print(f"duty lead: {lead} (support.duty_lead: everyone on {duty.source} is on leave today)")
    elif duty.duty_lead != duty.rostered_lead:
        print(f"duty lead: {lead} (standing in: {duty.rostered_lead} is on leave) — {duty.source}")
    else:
        print(f"duty lead: {lead} — {duty.source}, week of {duty.week}")
    print(f"on duty: {', '.join(duty.engineers) or 'nobody'}")
    if duty.on_leave:
        print(f"on leave today: {', '.join(duty.on_leave)}")
    print(f"handed over {local(duty.began_at)}; next handover {local(duty.next_handover_at)}")


def parse_when(text: str) -> datetime:
    """ISO 8601; without an offset, the UK's local time (as the rest of the CLI prints)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--at: {text!r} is not a date and time (e.g. 2026-04-07T09:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(UTC)
