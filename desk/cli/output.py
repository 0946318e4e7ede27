"""Printing for the CLI: one JSON document for machines, plain lines with local times for people."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from desk.db import migrate
from desk.db.outage import patiently
from desk.errors import ConfigError
from desk.wiring import Wiring

LONDON = ZoneInfo("Europe/London")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=_default, ensure_ascii=False) + "\n")


def local(at: datetime | str | None, tz: ZoneInfo = LONDON) -> str:
    """An instant as a person in the UK reads it: 'Mon 5 Jan 2026 10:00 GMT'."""
    if at is None:
        return "—"
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    moment = at.astimezone(tz)
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M:%S %Z}"


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def require_schema(wiring: Wiring, *, patience: float = 0) -> None:
    """Refuse to work on a database behind the code's migrations. With `patience`, a long-running process
    (serve, worker) started while the database is unreachable waits that long for it instead of exiting."""
    def current() -> bool:
        return migrate.is_current(wiring.engine)

    if not (patiently(current, what="checking the database schema", patience=patience) if patience else current()):
        raise ConfigError(
            f"the database schema is at {migrate.current(wiring.engine) or 'nothing'}, not "
            f"{migrate.head()}: run `desk db upgrade` first")


def duration(seconds: int) -> str:
    """3h30m, 45m, 22m30s: how a person writes a duration."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"
