"""`desk privacy export|redact --user U…`: a data subject's access and erasure requests (docs/data-protection.md).

Thin: the work is `services.privacy`. The export is one JSON document (to `--out`, or stdout) and is
recorded in the audit chain in the transaction that read it, so what was disclosed and its record agree (it is recorded before it is written, so nothing leaves unrecorded); a summary for the person
running it goes to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from desk.cli.output import JsonOption, print_json, require_schema
from desk.db.engine import unit_of_work
from desk.services import privacy
from desk.wiring import Wiring

app = typer.Typer(help="A person's data: subject access exports and erasure of their words.",
                  no_args_is_help=True)

UserOption = Annotated[str, typer.Option("--user", help="The person's Slack user id (U…).")]
ByOption = Annotated[str, typer.Option("--by", help="Who is handling the request (recorded in the audit log).")]
ReferenceOption = Annotated[str | None, typer.Option(
    "--reference", help="Your reference for the request (recorded in the audit log).")]


@app.command("export")
def export(
    user: UserOption,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (default stdout).")] = None,
    by: ByOption = "cli",
    reference: ReferenceOption = None,
) -> None:
    """Everything desk holds about one person, across councils, as JSON (a subject access request)."""
    privacy.require_user_id(user)
    wiring = Wiring.from_environ()
    require_schema(wiring)
    now = wiring.clock.now()
    with unit_of_work(wiring.engine) as session:  # recorded before it is written: never an unrecorded disclosure
        document = privacy.export_person(session, user_id=user, now=now)
        recorded = privacy.record_export(session, document, actor=by, at=now, reference=reference)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    print(f"{user}: {len(document['tickets_requested'])} ticket(s) requested, "
          f"{len(document['tickets_assigned'])} assigned, {len(document['events_by_them'])} event(s) by them, "
          f"{len(document['events_naming_them'])} naming them, {len(document['ratings'])} rating(s), "
          f"{len(document['direct_messages'])} direct message(s), in {len(document['councils'])} council(s); "
          f"recorded on {recorded} ticket(s) in the audit log", file=sys.stderr)


@app.command("redact")
def redact(
    user: UserOption,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; change nothing.")]
    = False,
    by: ByOption = "cli",
    reference: ReferenceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove the person's words from closed tickets, keeping the audit chain verifiable."""
    privacy.require_user_id(user)
    wiring = Wiring.from_environ()
    require_schema(wiring)
    result = privacy.redact_person(wiring.engine, user_id=user, actor=by, now=wiring.clock.now(),
                                   dry_run=dry_run, reference=reference)
    if as_json:
        print_json(result.as_dict())
        return
    verb = "would remove" if dry_run else "removed"
    refs = f": {', '.join(result.tickets)}" if result.tickets else ""
    print(f"{user}: {verb} their words from {result.events} event(s) on {len(result.tickets)} closed "
          f"ticket(s){refs}")
    if result.kept_open:
        print(f"kept while open (run again once closed): {', '.join(result.kept_open)}")
    if result.legacy_events_kept:
        print(f"{result.legacy_events_kept} event(s) written before text was sealed keep their words "
              "(see docs/data-protection.md)")
