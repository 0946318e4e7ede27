"""Reading the API's query strings strictly: an unknown, repeated or malformed parameter is a 400.

Being strict is a security property here, not pedantry: a parameter the API ignored silently (a
`council=` someone hoped would switch tenants, a second `status`) would leave the caller unsure what
they were shown. The token alone decides the council, so `council` is always refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from desk.domain.lifecycle import Status

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERY = 2048
UK = ZoneInfo("Europe/London")
_CURSOR = re.compile(r"t([1-9][0-9]{0,17})")


class BadRequest(Exception):
    """A request the API refuses with 400; `code` is machine-readable, the message is for a person."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def parse_query(query_string: str, allowed: tuple[str, ...]) -> dict[str, str]:
    if len(query_string) > MAX_QUERY:
        raise BadRequest("invalid_query", f"the query string is longer than {MAX_QUERY} characters")
    try:
        parsed = parse_qs(query_string, keep_blank_values=True, strict_parsing=bool(query_string),
                          max_num_fields=20)
    except ValueError:
        raise BadRequest("invalid_query", "the query string is not name=value pairs joined by &") from None
    if "council" in parsed:
        raise BadRequest("council_not_allowed", "the council is the token's: remove the council parameter")
    unknown = sorted(set(parsed) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) or "none"
        raise BadRequest("unknown_parameter", f"unknown parameter {unknown[0]!r} (expected: {expected})")
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise BadRequest("repeated_parameter", f"parameter {repeated[0]!r} is given more than once")
    return {name: values[0] for name, values in parsed.items()}


SEARCH_ALONE = ("status", "opened_after", "cursor")  # a ranked search is one page, by its words alone


def search_words(params: dict[str, str]) -> str:
    """`q`: words to find. Any text is safe (it is never query syntax); text without a word is refused."""
    raw = params["q"]
    combined = [name for name in SEARCH_ALONE if name in params]
    if combined:
        raise BadRequest("invalid_query", f"q cannot be combined with {combined[0]}: a search is one page of "
                         "the best matches (use limit)")
    if not any(c.isalnum() for c in raw):
        raise BadRequest("invalid_q", "q: give some words to search for, e.g. q=direct+debit")
    return raw


def limit(params: dict[str, str]) -> int:
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest("invalid_limit", f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def status(params: dict[str, str]) -> str | None:
    raw = params.get("status")
    if raw is None:
        return None
    if raw not in set(Status):
        raise BadRequest("invalid_status", f"status is one of {', '.join(Status)}")
    return raw


def encode_cursor(after_number: int | None) -> str | None:
    if after_number is None:
        return None
    return base64.urlsafe_b64encode(f"t{after_number}".encode()).decode().rstrip("=")


def cursor(params: dict[str, str]) -> int:
    """The ticket number to continue after (0 from the start)."""
    raw = params.get("cursor")
    if raw is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        decoded = ""
    match = _CURSOR.fullmatch(decoded)
    if match is None:
        raise BadRequest("invalid_cursor", "cursor is the next_cursor of a previous page, unchanged")
    return int(match.group(1))


def instant(params: dict[str, str], name: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 instant with an offset, or a date (a whole day in UK time; `end_of_day` for `to`)."""
    raw = params.get(name)
    if raw is None:
        return None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise BadRequest("invalid_instant", f"{name}: {raw!r} is not a date") from None
        day += timedelta(days=1) if end_of_day else timedelta()
        return datetime.combine(day, time(0), UK).astimezone(UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        hint = " (a + in a query string reads as a space: write it %2B, or use Z)" if " " in raw else ""
        raise BadRequest("invalid_instant", f"{name}: give a date (2026-01-05) or an instant with an offset "
                         f"(2026-01-05T09:00:00Z){hint}")
    return at.astimezone(UTC)
