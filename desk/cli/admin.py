"""`desk db`, `desk playbooks`, `desk audit` and `desk status`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from desk.cli.output import JsonOption, print_json, require_schema
from desk.cli.progress import meter, shown
from desk.cli.sla import recompute_with_progress
from desk.db import migrate, queries
from desk.db.engine import unit_of_work
from desk.services import audit, playbooks, problem_audit, saved_replies
from desk.services.playbook_files import load_directory
from desk.wiring import Wiring

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
playbooks_app = typer.Typer(help="SLA playbooks and the councils registry.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident event log.", no_args_is_help=True)

DirArgument = Annotated[
    Path | None, typer.Argument(help="Playbook directory (default: $DESK_PLAYBOOKS_DIR or ./playbooks).")
]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    wiring = Wiring.from_environ()
    migrate.upgrade(wiring.engine)
    print(f"database {wiring.settings.database_url_safe} is at revision {migrate.current(wiring.engine)}")


@playbooks_app.command("validate")
def playbooks_validate(directory: DirArgument = None) -> None:
    """Check every file; print `file: key: problem` lines and exit 1 on error. Changes nothing."""
    path = directory or Wiring.from_environ().settings.playbooks_dir
    loaded = load_directory(path)
    names = ", ".join(sorted(loaded.playbooks))
    print(f"{path}: OK: {len(loaded.playbooks)} playbooks ({names}), "
          f"{len(loaded.registry.councils)} councils, {len(loaded.replies)} saved replies")


@playbooks_app.command("sync")
def playbooks_sync(directory: DirArgument = None, as_json: JsonOption = False) -> None:
    """Load the directory into the database, all or nothing. A changed playbook gets a new version."""
    wiring = Wiring.from_environ()
    path = directory or wiring.settings.playbooks_dir
    loaded = load_directory(path)  # refuses a broken directory before touching the database
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        report = playbooks.sync(session, loaded, at=wiring.clock.now())
    # A council on another division has other bank holidays: its open tickets' deadlines move now,
    # not whenever the sweeper next looks at them (a stale instant that is too late fires late).
    moved = recompute_with_progress(wiring, report.divisions_changed, as_json=as_json)
    if as_json:
        print_json({**report.as_dict(), "recomputed": moved.as_dict()})
        return
    for playbook_id, version in report.new_versions.items():
        print(f"playbook {playbook_id}: new version {version}")
    for playbook_id, version in report.unchanged.items():
        print(f"playbook {playbook_id}: unchanged (version {version})")
    for label, ids in (("added", report.councils_added), ("updated", report.councils_updated),
                       ("deactivated", report.councils_deactivated)):
        if ids:
            print(f"councils {label}: {', '.join(ids)}")
    for reply_id, version in report.replies.new_versions.items():
        print(f"saved reply {reply_id}: new version {version}")
    if report.replies.unchanged:
        print(f"saved replies unchanged: {', '.join(report.replies.unchanged)}")
    if report.replies.retired:
        print(f"saved replies retired (no longer offered): {', '.join(report.replies.retired)}")
    if report.divisions_changed:
        print(f"division changed for {', '.join(report.divisions_changed)}: {moved.clocks} running SLA "
              f"clock(s) recomputed, {moved.moved} deadline(s) moved ({moved.earlier} earlier, {moved.later} later)")


@audit_app.command("verify")
def audit_verify(
    council: Annotated[str | None, typer.Option(help="Only this council's chain.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-check each council's event hash chain (and, without --council, the problems' chain); exit 1
    naming the first bad event."""
    wiring = Wiring.from_environ()
    require_schema(wiring)
    with unit_of_work(wiring.engine) as session:
        drawn = shown(enabled=not as_json)
        total = audit.events_to_verify(session, council) if drawn else None
        with meter("verifying the event chains", unit="events", total=total, enabled=drawn) as done:
            reports = audit.verify_all(session, council, progress=done.advance)
        if council is None:
            reports.append(problem_audit.verify(session))
    if as_json:
        print_json([{"council": r.council_id, "events": r.events, "ok": r.ok, "broken_at": r.broken_at,
                     "reason": r.reason} for r in reports])
    else:
        for r in reports:
            if r.ok:
                print(f"{r.council_id}: OK ({r.events} events)")
            else:
                print(f"{r.council_id}: BROKEN at event {r.broken_at}: {r.reason}", file=sys.stderr)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def status() -> None:
    """What this desk has loaded, and what to do next."""
    wiring = Wiring.from_environ()
    print(f"database: {wiring.settings.database_url_safe} (revision {migrate.current(wiring.engine)}, "
          f"latest {migrate.head()})")
    if not migrate.is_current(wiring.engine):
        print("next: run `desk db upgrade`")
        return
    with unit_of_work(wiring.engine) as session:
        versions = [v for v in queries.list_playbook_versions(session) if v.current]
        councils = [c for c in queries.list_councils(session) if c.active]
        open_tickets = sum(1 for t in queries.list_tickets(session) if t.status not in ("resolved", "closed"))
        replies = saved_replies.list_current(session)
    for v in versions:
        print(f"playbook {v.playbook_id}: version {v.version}")
    if replies:
        print(f"saved replies: {', '.join(f'{r.reply_id} (v{r.version})' for r in replies)}")
    for c in councils:
        print(f"council {c.id}: {c.name} ({c.ref_prefix}-…, playbook {c.playbook_id}, "
              f"{c.division or 'division from the playbook'})")
    print(f"open tickets: {open_tickets}")
    if not councils:
        print("next: run `desk playbooks sync`")
        return
    print("next: try `desk sla due --council <id> --priority P2 --opened 2026-12-23T16:00:00Z`,")
    print("      `desk tickets open --council <id> --title '…'`, `desk tickets list`, `desk audit verify`.")
    bot = "set" if wiring.settings.slack_bot_token else "not set"
    print(f"slack: SLACK_BOT_TOKEN {bot}; start the bot with `desk serve --http` (docs/slack-setup.md),")
    print("       or try desk without Slack: `desk sandbox` (docs/sandbox.md).")


