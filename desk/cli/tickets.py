"""`desk tickets list|show|search|open|close|resolve`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from desk.cli.output import JsonOption, local, print_json, require_schema
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import TicketRow
from desk.domain.sla_replay import replay, report
from desk.services import closing, intake, problems, search, sla_state, tickets
from desk.wiring import Wiring

app = typer.Typer(help="Inspect (and open) tickets.", no_args_is_help=True)


def summary(ticket: TicketRow) -> dict:
    return {"ref": ticket.ref, "council": ticket.council_id, "status": ticket.status,
            "priority": ticket.priority, "category": ticket.category, "title": ticket.title,
            "requester": ticket.requester, "assignee": ticket.assignee,
            "opened_at": ticket.opened_at.isoformat()}


def detail(session: Session, ticket: TicketRow, wiring: Wiring) -> dict:
    assert ticket.id is not None
    events = queries.list_ticket_events(session, ticket.id)
    policy = sla_state.policy_for(session, ticket)
    sla = report(replay(policy, sla_state.replay_events(events), wiring.clock.now()))
    known = problems.known_problem_for(session, ticket)
    problem = {"ref": known.ref, "title": known.title, "status": known.status} if known else None
    return {**summary(ticket), "sla": sla, "problem": problem, "events": [
        {"seq": e.seq, "at": e.at.isoformat(), "type": e.type, "actor": e.actor, "data": e.data,
         "hash": e.hash} for e in events]}


@app.command("list")
def list_tickets(
    council: Annotated[str | None, typer.Option(help="Only this council's tickets.")] = None,
    status: Annotated[str | None, typer.Option(help="Only tickets in this status.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tickets, by council and number."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        if council:
            queries.get_council(session, council)
        rows = [summary(t) for t in queries.list_tickets(session, council_id=council, status=status)]
    if as_json:
        print_json(rows)
        return
    for t in rows:
        print(f"{t['ref']:<10} {t['priority']:<4} {t['status']:<19} {local(t['opened_at'])}  {t['title']}")
    if not rows:
        print("no tickets")


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help="Ticket ref, e.g. CHW-1.")], as_json: JsonOption = False) -> None:
    """One ticket: its fields, SLA state as of now, and its history."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        document = detail(session, queries.get_ticket(session, ref), wiring)
    if as_json:
        print_json(document)
        return
    print(f"{document['ref']} [{document['council']}] {document['priority']} {document['status']}: "
          f"{document['title']}")
    respond = document["sla"]["respond"]
    print(f"  respond due {local(respond['due_at'])}" + ("  BREACHED" if respond["breached"] else ""))
    for cycle in document["sla"]["resolve"]:
        print(f"  resolve cycle {cycle['cycle']} due {local(cycle['due_at'])}"
              + ("  (paused)" if cycle["paused"] else "") + ("  BREACHED" if cycle["breached"] else ""))
    if document["problem"]:
        known = document["problem"]
        print(f"  problem {known['ref']} ({known['status'].replace('_', ' ')}): {known['title']}")
    for event in document["events"]:
        print(f"  #{event['seq']} {local(event['at'])} {event['type']} by {event['actor']}")


@app.command("search")
def search_tickets(
    words: Annotated[list[str], typer.Argument(help="Words to find (every one must appear).")],
    council: Annotated[str | None, typer.Option(help="Only this council's tickets.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many, best first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Find tickets by the words of their titles, descriptions and public replies (never internal notes),
    best match first, each with its status and where its SLA stands."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    now = wiring.clock.now()
    with unit_of_work(wiring.engine) as session:
        scope = search.Scope.council(queries.get_council(session, council).id) if council else search.Scope.every_council()
        rows = [search.hit_record(hit) for hit in search.search(session, " ".join(words), scope=scope, now=now,
                                                                limit=limit)]
    if as_json:
        print_json(rows)
        return
    for t in rows:
        due = t["sla"]["next_due_at"]
        breached = [m for m in ("respond", "resolve") if t["sla"][m]["breached"]]
        state = ("BREACHED " + ",".join(breached)) if breached else (f"due {local(due)}" if due else "-")
        print(f"{t['ref']:<10} {t['priority']:<4} {t['status']:<19} {state:<24} {t['title']}")
    if not rows:
        print("no tickets found")


@app.command("open")
def open_ticket(
    council: Annotated[str, typer.Option(help="Council id.")],
    title: Annotated[str, typer.Option(help="What is wrong, in a line.")],
    description: Annotated[str, typer.Option(help="More detail.")] = "",
    requester: Annotated[str | None, typer.Option(
        help="Who asked (a Slack user id, or a name): the ticket gets a council thread.")] = None,
    channel: Annotated[str | None, typer.Option(
        help="The council's channel for its thread (default: its first).")] = None,
    priority: Annotated[str | None, typer.Option(help="Set the priority instead of triaging.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Open a ticket by hand (e.g. from a phone call), triaged by the council's playbook.

    The worker posts its triage card and, with --requester or --channel, a council thread."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        ticket = intake.open_by_hand(session, council_id=council, title=title, description=description,
                                     requester=requester, channel=channel, priority=priority, actor="cli",
                                     at=wiring.clock.now()).ticket
        result = summary(ticket)
    if as_json:
        print_json(result)
    else:
        print(f"opened {result['ref']} ({result['priority']})")


@app.command("close")
def close_ticket(
    ref: Annotated[str, typer.Argument(help="Ticket ref, e.g. CHW-1.")],
    as_json: JsonOption = False,
) -> None:
    """Close a resolved ticket now, instead of waiting for `close_after_days` (closed is final).

    The council is told in its thread by the worker (the outbox), as when the worker closes it."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        result = summary(closing.close(session, ref=ref, actor="cli", at=wiring.clock.now()))
    if as_json:
        print_json(result)
    else:
        print(f"closed {result['ref']}")
@app.command("resolve")
def resolve(
    ref: Annotated[str, typer.Argument(help="Ticket ref, e.g. CHW-1.")],
    note: Annotated[str, typer.Option(help="The resolution note: the council reads it in its thread.")],
    as_json: JsonOption = False,
) -> None:
    """Resolve a ticket by hand; the worker posts the note in the council's thread, with the rating buttons."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        result = summary(tickets.resolve(session, ref=ref.upper(), note=note, actor="cli", at=wiring.clock.now()))
    if as_json:
        print_json(result)
    else:
        print(f"resolved {result['ref']}")
