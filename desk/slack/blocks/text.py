"""Turning values into text Slack shows safely: escaping, shortening, people, times.

Slack parses mrkdwn (and a message's fallback `text`) for control sequences: `<!channel>`, `<@U…>`,
`<!subteam^S…>`, `<url|label>`. Its rule is that `&`, `<` and `>` in anything that is not meant as markup
become `&amp;`, `&lt;`, `&gt;`. So every string a person typed goes through `person_text` (escape, then
shorten) before it is placed into mrkdwn, and the only `<…>` sequences desk ever sends are the mentions
`user` builds from ids Slack itself gave us.

Lengths count characters of the text as sent (the escaped form), which is what Slack's limits count.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ELLIPSIS = "…"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def escape(text: str) -> str:
    """Slack's escaping: only `&`, `<` and `>`, ampersand first so entities are not escaped twice."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(markup: str, limit: int) -> str:
    """Shorten already-safe mrkdwn to `limit` characters, ending in "…".

    Never cuts inside an entity (`&amp;`) or inside desk's own `<@U…>` markup: a half entity shows as
    garbage and a half `<…` could swallow the text after it. Both can only have been written by desk
    (people's `&` and `<` are escaped), so an unclosed one near the cut is simply dropped.
    """
    if len(markup) <= limit:
        return markup
    if limit < 1:
        return ""
    kept = markup[: limit - 1]
    opened = kept.rfind("<")
    if opened != -1 and ">" not in kept[opened:]:
        kept = kept[:opened]
    amp = kept.rfind("&")
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    return kept.rstrip() + ELLIPSIS


def person_text(text: str, limit: int) -> str:
    """Text a person typed, ready for mrkdwn: escaped, then shortened to `limit` characters."""
    return clip(escape(text), limit)


def shorten(text: str, limit: int) -> str:
    """Text for a plain_text object (never parsed by Slack, so not escaped), shortened to `limit`."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Collapse newlines and runs of spaces: a title in a list must not start a quote or break the line."""
    return " ".join(text.split())


def is_user_id(value: str) -> bool:
    """Whether `value` looks like a Slack user id (`U…`, or `W…` on Enterprise Grid)."""
    return bool(_USER_ID.match(value))


def user(user_id: str) -> str:
    """A mention for an id Slack gave desk (`U…`/`W…`); anything else is shown as escaped text.

    Only ids from payloads ever reach here as ids, but the pattern check means a name someone typed can
    never become a mention, whatever it looks like.
    """
    if is_user_id(user_id):
        return f"<@{user_id}>"
    return person_text(user_id, 80)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(at: datetime, tz: str, now: datetime | None = None) -> str:
    """"Mon 5 Jan 10:00" in the council's timezone; the year only when it differs from `now`'s.

    Day and month names are spelt here rather than by `strftime`, so output never depends on the locale.
    """
    zone = _zone(tz)
    local = at.astimezone(zone)
    year = f" {local.year}" if now is not None and now.astimezone(zone).year != local.year else ""
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year} {local:%H:%M}"


def duration(span: timedelta) -> str:
    """The two largest units of a span, rounded down: "3d 4h", "2h 15m", "45m"."""
    minutes = int(abs(span.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def relative(at: datetime, now: datetime) -> str:
    """"in 2h 15m" or "45m ago"; "now" within a minute either side."""
    span = at - now
    if abs(span) < timedelta(minutes=1):
        return "now"
    return f"in {duration(span)}" if span > timedelta(0) else f"{duration(span)} ago"
