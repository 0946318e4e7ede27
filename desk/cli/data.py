"""`desk export`, `desk audit export`, `desk tokens create|list|revoke` and `desk retention apply`.

What a council can take away and who may read it: thin commands over `services.council_data`,
`services.audit_export`, `services.api_tokens` and `services.retention`. `register` adds them all to
the `desk` app, so the top-level module needs one line for the lot.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from desk.cli.output import JsonOption, local, print_json, require_schema
from desk.cli.progress import shown, track
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import ApiTokenRow
from desk.errors import InvalidInput
from desk.services import api_tokens, audit_export, council_data, export, retention
from desk.wiring import Wiring

tokens_app = typer.Typer(help="Bearer tokens for the council API (/api/v1/...).", no_args_is_help=True)
retention_app = typer.Typer(help="Redacting people's words on old closed tickets.", no_args_is_help=True)

CouncilOption = Annotated[str, typer.Option(help="Council id (councils.yaml).")]


def register(app: typer.Typer, *, audit_app: typer.Typer) -> None:
    app.command("export")(export_council)
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(retention_app, name="retention")
    audit_app.command("export")(audit_export_council)


def _write_lines(records: Iterable[dict], out: Path | None) -> int:
    """JSON Lines to `out` (or stdout); returns the number of lines."""
    lines = 0
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            lines += 1
    finally:
        if out:
            stream.close()
    return lines


def export_council(
    council: CouncilOption,
    format: Annotated[str, typer.Option("--format", help="jsonl (one record a line) or csv (three files).")]
    = "jsonl",
    out: Annotated[Path | None,
                   typer.Option(help="jsonl: a file (default stdout); csv: a directory or a .zip.")] = None,
) -> None:
    """One council's tickets, events and SLA cycles (internal notes excluded)."""
    if format not in export.FORMATS:
        raise InvalidInput(f"--format {format!r}: use jsonl or csv")
    if format == "csv" and out is None:
        raise InvalidInput("--format csv writes three files: give --out DIR or --out FILE.zip")
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        drawn = shown(streams_to_stdout=out is None)
        records = track(council_data.export_records(session, council, wiring.clock.now()), "exporting tickets",
                        unit="tickets", enabled=drawn, counts=lambda record: record["record"] == "ticket",
                        total=queries.get_council(session, council).next_number - 1 if drawn else None)
        if format == "csv":
            assert out is not None
            counts = export.write_csv(records, out)
        elif out is None:
            export.write_jsonl(records, sys.stdout)
            return
        else:
            with out.open("w", encoding="utf-8") as stream:
                counts = export.write_jsonl(records, stream)
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}s" for kind, n in counts.items())
    print(f"{council}: {summary} -> {out}", file=sys.stderr)


def audit_export_council(
    council: CouncilOption,
    out: Annotated[Path | None, typer.Option(help="A .jsonl file (default stdout).")] = None,
) -> None:
    """The council's whole event chain for auditors, with a header saying how to verify it offline."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        drawn = shown(streams_to_stdout=out is None)
        chain = track(audit_export.export_chain(session, council, wiring.clock.now()), "exporting the event chain",
                      unit="events", enabled=drawn, counts=lambda line: "seq" in line,
                      total=queries.get_council(session, council).last_seq if drawn else None)
        lines = _write_lines(chain, out)
    if out:
        print(f"{council}: {lines - 1} events -> {out}", file=sys.stderr)


@tokens_app.command("create")
def tokens_create(
    council: CouncilOption,
    name: Annotated[str | None, typer.Option(help="What the token is for, e.g. 'Power BI'.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token for one council. The secret is printed once: only its hash is kept."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        issued = api_tokens.create(session, council_id=council, name=name, at=wiring.clock.now())
        document = {**_token(issued.row), "token": issued.secret}
    if as_json:
        print_json(document)
        return
    print(f"token {document['id']} for {council} ({document['name']}):")
    print(f"  {issued.secret}")
    print("This is the only time it is shown: store it now. Revoke it with "
          f"`desk tokens revoke {document['id']}`.", file=sys.stderr)


def _token(row: ApiTokenRow) -> dict:
    return {"id": row.id, "council": row.council_id, "name": row.name, "prefix": row.prefix,
            "created_at": row.created_at, "revoked_at": row.revoked_at, "last_used_at": row.last_used_at}


@tokens_app.command("list")
def tokens_list(
    council: Annotated[str | None, typer.Option(help="Only this council's tokens.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens with their prefix, dates and state (never the secret: desk does not have it)."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        rows = [_token(row) for row in api_tokens.list_tokens(session, council_id=council)]
    if as_json:
        print_json(rows)
        return
    for t in rows:
        state = f"revoked {local(t['revoked_at'])}" if t["revoked_at"] else "live"
        print(f"{t['id']:>4}  {t['council']:<22} {t['prefix']}…  {state:<34} "
              f"last used {local(t['last_used_at'])}  {t['name']}")
    if not rows:
        print("no tokens")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The id from `desk tokens list`.")],
) -> None:
    """Revoke a token: the next request with it gets 401."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        row = api_tokens.revoke(session, token_id=token_id, at=wiring.clock.now())
        print(f"token {row.id} ({row.council_id}, {row.prefix}…) revoked {local(row.revoked_at)}")


@retention_app.command("apply")
def retention_apply(
    council: Annotated[str | None, typer.Option(help="Only this council.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be redacted; change nothing.")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """Redact the words on tickets closed longer than their council's `retention.redact_after_days`."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    report = retention.apply_retention(wiring.engine, now=wiring.clock.now(), council_id=council,
                                       dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
    else:
        verb = "would redact" if dry_run else "redacted"
        for c in report.councils:
            if c.error:
                print(f"{c.council_id}: FAILED: {c.error}", file=sys.stderr)
            elif not c.redact_after_days:
                print(f"{c.council_id}: no retention period in councils.yaml: nothing to do")
            else:
                refs = f": {', '.join(c.tickets)}" if c.tickets else ""
                kept = (f"; {c.legacy_events_kept} older events keep their text"
                        if c.legacy_events_kept else "")
                print(f"{c.council_id}: {verb} {len(c.tickets)} ticket(s) closed over "
                      f"{c.redact_after_days} days ago, {c.events} event(s){kept}{refs}")
        if not report.councils:
            print("no council has a retention period in councils.yaml")
    if not report.ok:
        raise typer.Exit(1)
