"""`desk report link`: print a signed, expiring link to the HTML SLA report.

For operators who want to send a council its report without Slack (an email before a governance
meeting), and for tests that open the page in a browser. The link is exactly what `/desk report` posts:
one council's figures with `--council`, every council's without. Only the URL goes to stdout, so
`$(desk report link ...)` works in scripts; what it grants and until when goes to stderr.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Annotated

import typer

from desk.cli.output import local, require_schema
from desk.db import queries
from desk.db.engine import unit_of_work
from desk.errors import ConfigError, InvalidInput, NotFound
from desk.wiring import Wiring

MAX_LINK_DAYS = 90  # a link is a bearer credential: long-lived ones are better re-issued than kept


def link(
    start: Annotated[str, typer.Option("--from", help="First day of the report, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day of the report (included), YYYY-MM-DD.")],
    council: Annotated[str | None, typer.Option(
        help="Council id: the link shows only that council (default: all councils, for managers).")] = None,
    days: Annotated[int, typer.Option(help=f"Days the link works for (1-{MAX_LINK_DAYS}).")] = 7,
) -> None:
    """Print a signed link to the HTML SLA report (it expires; a changed link gets 403)."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise InvalidInput("--to: the report ends before it starts")
    if not 1 <= days <= MAX_LINK_DAYS:
        raise InvalidInput(f"--days: between 1 and {MAX_LINK_DAYS}")
    wiring = Wiring.from_environ()
    require_schema(wiring)
    if council is not None:
        with unit_of_work(wiring.engine) as session:
            try:
                council = queries.get_council(session, council).id
            except NotFound as err:
                raise NotFound(f"--council: {err}") from None
    links = wiring.report_links()
    if links is None:
        raise ConfigError("set SLACK_SIGNING_SECRET or DESK_LINK_SECRET: report links are signed with it")
    url, expires_at = links.url(council, first, last, now=wiring.clock.now(), lifetime=timedelta(days=days))
    print(url)
    print(f"{council or 'all councils'}, {first}..{last}; expires {local(expires_at)}", file=sys.stderr)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None
