"""`desk problems list|show`: the support team's view of problems (docs/problems.md). Read-only: problems
are worked from Slack, where the councils are told."""

from __future__ import annotations

from typing import Annotated

import typer

from desk.cli.output import JsonOption, local, print_json, require_schema
from desk.db.engine import unit_of_work
from desk.services import problems
from desk.wiring import Wiring

app = typer.Typer(help="Problems: one fault behind many councils' tickets.", no_args_is_help=True)


@app.command("list")
def list_problems(
    open_only: Annotated[bool, typer.Option("--open", help="Only problems not yet resolved.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Problems, newest first, with how many tickets and councils each has linked."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        rows = problems.list_problems(session, open_only=open_only)
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    for p in rows:
        print(f"{p.ref:<8} {p.status_label:<14} {p.tickets:>3} ticket(s), {p.councils} council(s)  "
              f"{local(p.opened_at)}  {p.title}")
    if not rows:
        print("no problems")


@app.command("show")
def show(
    problem: Annotated[str, typer.Argument(help="Problem ref or number, e.g. PRB-3.")],
    as_json: JsonOption = False,
) -> None:
    """One problem: its status history, its updates to councils, and its tickets by council with SLA state."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        view = problems.problem_view(session, problem, now=wiring.clock.now())
    if as_json:
        print_json(view.as_json())
        return
    p = view.problem
    print(f"{p.ref} {p.status_label}: {p.title}")
    print(f"  owner {p.owner or '—'}; opened {local(p.opened_at)}"
          + (f"; resolved {local(p.resolved_at)}" if p.resolved_at else ""))
    print(f"  summary: {view.summary or '—'}")
    if view.workaround:
        print(f"  workaround: {view.workaround}")
    if view.match:
        print(f"  matches new tickets saying: {', '.join(view.match)}"
              + (f" (rule {view.triage_rule})" if view.triage_rule else "")
              + (f" (category {view.category})" if view.category else ""))
    if view.resolution_note:
        print(f"  resolution: {view.resolution_note}")
    print("  history:")
    for change in view.history:
        print(f"    {local(change.at)} {change.status_from or 'opened'} → {change.status_to} by {change.by}")
    print(f"  updates to councils: {len(view.updates)}")
    for update in view.updates:
        print(f"    {local(update.at)} by {update.by}: {update.text}")
    print(f"  tickets: {p.tickets} from {p.councils} council(s)")
    for council, linked in view.tickets_by_council.items():
        print(f"    {council}:")
        for t in linked:
            print(f"      {t.ref:<10} {t.priority:<4} {t.status:<19} {t.sla_state:<28} {t.title}")
