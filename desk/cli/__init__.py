"""`desk`: the command line (DESIGN.md, Command line). Thin: parse, call a service, print.

Every command exits 0 on success and 1 with a message on stderr for anything a person can fix
(`DeskError`); `--json` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from desk import __version__
from desk.cli import (
    admin,
    data,
    digest,
    privacy,
    problems,
    report,
    report_link,
    rota,
    sandbox,
    serve,
    sla,
    tickets,
    worker,
)
from desk.cli.output import fail
from desk.db.outage import describe, unreachable
from desk.errors import DeskError, PlaybookInvalid

app = typer.Typer(
    name="desk",
    help="desk: a service desk in Slack, with UK business-hours SLAs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print desk's version and exit.", is_eager=True)]
    = False,
) -> None:
    """desk: a service desk in Slack, with UK business-hours SLAs."""
    if version:
        print(f"desk {__version__}")
        raise typer.Exit()


app.add_typer(admin.db_app, name="db")
app.add_typer(admin.playbooks_app, name="playbooks")
app.add_typer(sla.app, name="sla")
app.add_typer(tickets.app, name="tickets")
app.add_typer(problems.app, name="problems")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(digest.app, name="digest")
app.add_typer(privacy.app, name="privacy")
app.add_typer(rota.app, name="rota")
report.app.command("link")(report_link.link)
app.add_typer(report.app, name="report")
app.command("status")(admin.status)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("sandbox")(sandbox.sandbox)
data.register(app, audit_app=admin.audit_app)  # export, tokens, retention, audit export


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="desk", standalone_mode=True)
    except PlaybookInvalid as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        sys.exit(1)
    except DeskError as err:
        fail(str(err))
    except Exception as err:
        if not unreachable(err):
            raise
        fail(f"desk cannot reach its database: {describe(err)}")
