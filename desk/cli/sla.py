"""`desk sla due`, `desk sla replay` (the SLA engine from a playbook directory) and `desk sla recompute`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from desk.cli.output import JsonOption, duration, local, print_json, require_schema
from desk.cli.progress import meter, shown
from desk.db import queries
from desk.db.engine import read_only
from desk.domain.playbook import PlaybookSet, council_calendar
from desk.domain.sla import SlaPolicy, TicketSla
from desk.domain.sla_replay import parse_history, parse_instant, replay, report
from desk.errors import InvalidInput, NotFound
from desk.services import sla_recompute
from desk.services.playbook_files import load_directory
from desk.wiring import Wiring

app = typer.Typer(help="SLA targets and what-if replays.", no_args_is_help=True)

PlaybooksOption = Annotated[
    Path | None, typer.Option("--playbooks", help="Playbook directory (default: $DESK_PLAYBOOKS_DIR).")
]


def _load(directory: Path | None) -> PlaybookSet:
    return load_directory(directory or Wiring.from_environ().settings.playbooks_dir)


def policy_for_council(playbooks: PlaybookSet, council_id: str) -> SlaPolicy:
    council = playbooks.council(council_id)
    if council is None:
        known = ", ".join(c.id for c in playbooks.registry.councils)
        raise NotFound(f"no council {council_id!r} in councils.yaml (known: {known})")
    playbook = playbooks.playbooks[council.playbook]
    return SlaPolicy.for_playbook(playbook, council_calendar(playbook, council))


@app.command("due")
def due(
    council: Annotated[str, typer.Option(help="Council id from councils.yaml.")],
    priority: Annotated[str, typer.Option(help="Priority code, e.g. P2.")],
    opened: Annotated[str, typer.Option(help="When the ticket is opened: ISO 8601 with offset.")],
    as_json: JsonOption = False,
    playbooks_dir: PlaybooksOption = None,
) -> None:
    """Due instants (and warnings) for a ticket of COUNCIL opened at OPENED with PRIORITY."""
    policy = policy_for_council(_load(playbooks_dir), council)
    opened_at = parse_instant(opened, "--opened")
    try:
        sla = TicketSla.open(policy, priority, opened_at)
    except ValueError as err:
        raise InvalidInput(f"--priority: {err}") from None
    warn_at = {
        str(run.metric): [at.isoformat() for step, at in sla.planned_steps(run) if step.at_percent < 100]
        for run in sla.runs
    }
    document = {"respond_due_at": _iso(sla.respond.due_at), "resolve_due_at": _iso(sla.current_resolve.due_at),
                "warn_at": warn_at}
    if as_json:
        print_json(document)
        return
    target = policy.target(priority)
    print(f"{council} {priority} ({target.name}, {target.clock} clock) opened {local(opened_at)}")
    print(f"  respond by {local(sla.respond.due_at)}")
    print(f"  resolve by {local(sla.current_resolve.due_at)}")
    for metric, instants in warn_at.items():
        for at in instants:
            print(f"  {metric} warning at {local(at)}")


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help="JSON: {council, events: [...]} or a list of them; - for stdin.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Stop here (default: the last event).")] = None,
    as_json: JsonOption = False,
    playbooks_dir: PlaybooksOption = None,
) -> None:
    """Run a ticket history through the SLA engine: due instants, breaches, pauses, notifications."""
    text = typer.get_text_stream("stdin").read() if str(file) == "-" else _read(file)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{file}: not JSON: {err}") from None
    playbooks = _load(playbooks_dir)
    cutoff = parse_instant(as_of, "--as-of") if as_of else None
    histories = document if isinstance(document, list) else [document]
    results = []
    for i, history in enumerate(histories):
        where = f"{file}[{i}]" if isinstance(document, list) else str(file)
        council_id, events = parse_history(history, where)
        results.append(report(replay(policy_for_council(playbooks, council_id), events, cutoff)))
    output = results if isinstance(document, list) else results[0]
    if as_json:
        print_json(output)
        return
    for result in results:
        _print_replay(result)


@app.command("recompute")
def recompute_command(
    council: Annotated[list[str] | None, typer.Option(help="Only this council (repeatable); default: all.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Work out open tickets' deadlines again after a calendar change (e.g. after upgrading desk brought new
    bank-holiday data). `desk playbooks sync` does this by itself for a council whose division changed."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    if council:
        known = {c.id for c in _councils(wiring)}
        unknown = [c for c in council if c not in known]
        if unknown:
            raise NotFound(f"no council {', '.join(map(repr, unknown))} in the database (known: "
                           f"{', '.join(sorted(known))})")
    moved = recompute_with_progress(wiring, council or None, as_json=as_json)
    if as_json:
        print_json(moved.as_dict())
        return
    print(f"{moved.clocks} running SLA clock(s) recomputed: {moved.moved} deadline(s) moved "
          f"({moved.earlier} earlier, {moved.later} later)"
          + (f"; {moved.lost_races} changed meanwhile by other work, left as it wrote them" if moved.lost_races
             else ""))


def recompute_with_progress(wiring: Wiring, councils: list[str] | None, *, as_json: bool):
    """`sla_recompute.recompute`, with a bar on a terminal (`desk sla recompute`, `desk playbooks sync`)."""
    drawn = shown(enabled=not as_json)
    total = sla_recompute.running_clocks(wiring.engine, councils=councils) if drawn else None
    with meter("recomputing SLA deadlines", unit="clocks", total=total, enabled=drawn) as done:
        return sla_recompute.recompute(wiring.engine, councils=councils,
                                       progress=lambda report: done(report.clocks))


def _councils(wiring: Wiring) -> list:
    with read_only(wiring.engine) as session:
        return queries.list_councils(session)


def _print_replay(result: dict) -> None:
    respond = result["respond"]
    print(f"priority {result['priority']}")
    state = "BREACHED" if respond["breached"] else ("met" if respond["met_at"] else "running")
    print(f"  respond: due {local(respond['due_at'])}, first reply {local(respond['met_at'])}: {state}")
    for cycle in result["resolve"]:
        state = "BREACHED" if cycle["breached"] else ("met" if cycle["stopped_at"] else
                                                      "paused" if cycle["paused"] else "running")
        print(f"  resolve cycle {cycle['cycle']}: started {local(cycle['started_at'])}, due "
              f"{local(cycle['due_at'])}, stopped {local(cycle['stopped_at'])}, paused "
              f"{duration(cycle['paused_seconds'])}: {state}")
    for n in result["notifications"]:
        repeat = f" (repeat {n['repeat']})" if "repeat" in n else ""
        print(f"  {local(n['at'])}: {n['metric']} cycle {n['cycle']} {n['kind']} at {n['threshold']}%{repeat}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as err:
        raise InvalidInput(f"{path}: {err.strerror}") from None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
