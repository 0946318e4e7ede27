"""Digests as Slack mrkdwn (Jinja2) plus a chart (Pillow): exactly what is posted and what `preview` prints.

Autoescape is off because the target is mrkdwn, not HTML: HTML escaping would be wrong (`'` → `&#39;`).
Instead every value that came from people (titles, names) goes through the `slack` filter, which escapes
`&`, `<`, `>` as Slack requires, so a title of `<!channel>` shows as text and pings nobody. Undefined
names fail loudly (`StrictUndefined`) rather than vanish from a message.

A digest's text is sections separated by one blank line; the dispatcher can post each as a section block,
so each is kept within Slack's 3000 characters: lists are capped ("… and N more"), titles clipped.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from desk.rendering import charts
from desk.services.digest_stats import Compliance
from desk.services.digests import CouncilDigest, ManagersDigest

SECTION_LIMIT = 3000  # characters in one Slack section block's text
LIST_LIMIT = 10  # bullet lines per list
REF_LIMIT = 12  # refs inline after a count
TITLE_LIMIT = 80
ELLIPSIS = "…"


@dataclass(frozen=True)
class RenderedDigest:
    text: str
    chart_png: bytes | None
    chart_title: str

    @property
    def sections(self) -> tuple[str, ...]:
        """The text's sections (blank-line separated), each within SECTION_LIMIT."""
        return tuple(self.text.split("\n\n"))


def slack(value: object) -> str:
    """Slack's escaping for text people typed: `&` first, so entities are not escaped twice."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(markup: str, limit: int = TITLE_LIMIT) -> str:
    """Shorten escaped text to `limit` characters with "…", never cutting an entity (`&amp;`) in half."""
    if len(markup) <= limit:
        return markup
    kept = markup[: limit - 1]
    amp = kept.rfind("&")
    if amp != -1 and ";" not in kept[amp:]:
        kept = kept[:amp]
    return kept.rstrip() + ELLIPSIS


def when(at: datetime, timezone: str) -> str:
    """'Mon 5 Jan 09:00' in the reader's timezone (the council's; UK time for managers)."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def day(at: datetime, timezone: str) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day}"


def age(span: timedelta) -> str:
    """'3d 4h', '5h 10m', '40m': an age at a glance, in real time."""
    minutes = int(span.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes}m" if hours else f"{minutes}m"


def rate(compliance: Compliance) -> str:
    """'3 of 4 (75%)', or 'nothing due' when there was nothing to meet."""
    if not compliance.total:
        return "nothing due"
    return f"{compliance.met} of {compliance.total} ({compliance.percent}%)"


def refs(values: Sequence[str], limit: int = REF_LIMIT) -> str:
    """' (CHW-1, CHW-2 and 3 more)' after a count; nothing for none."""
    if not values:
        return ""
    shown = ", ".join(values[:limit])
    more = len(values) - limit
    return f" ({shown} and {more} more)" if more > 0 else f" ({shown})"


def missed(compliance: Compliance, limit: int = REF_LIMIT) -> str:
    """', missed: CHW-3, CHW-7 (cycle 2)' after a rate (capped like `refs`); nothing when none missed."""
    names = [o.ref if o.cycle == 1 else f"{o.ref} (cycle {o.cycle})" for o in compliance.missed]
    if not names:
        return ""
    more = len(names) - limit
    return ", missed: " + ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("desk", "templates"), autoescape=False, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(slack=slack, clip=clip, when=when, day=day, age=age, rate=rate, refs=refs,
                       missed=missed)
    env.globals.update(LIST_LIMIT=LIST_LIMIT)
    return env


def render_council(d: CouncilDigest) -> RenderedDigest:
    text = _render("digest_council.md.j2", d=d, tz=d.timezone)
    groups = [day(bucket.starts_at, d.timezone) for bucket in d.days]
    png = charts.bars(f"Opened and resolved, {d.week}", groups, [
        charts.Series("opened", charts.BLUE, tuple(bucket.opened for bucket in d.days)),
        charts.Series("resolved", charts.GREEN, tuple(bucket.resolved for bucket in d.days))],
        empty="No requests this week" if d.quiet else "Nothing opened or resolved this week")
    return RenderedDigest(text, png, f"{d.council_name}: requests opened and resolved per day, {d.week}")


def render_managers(d: ManagersDigest) -> RenderedDigest:
    text = _render("digest_managers.md.j2", d=d, tz=d.timezone)
    png = charts.bars(f"SLA compliance by council, {d.week}", [c.council_name for c in d.councils], [
        charts.Series("first response", charts.BLUE, tuple(c.respond.percent for c in d.councils)),
        charts.Series("resolution", charts.GREEN, tuple(c.resolve.percent for c in d.councils))],
        top=100, suffix="%", empty="No councils")
    return RenderedDigest(text, png, f"First-response and resolution compliance by council, {d.week}")


def _render(template: str, **values: object) -> str:
    """The template's text with blank-line-separated sections, each held within SECTION_LIMIT.

    The caps in the templates already keep sections far shorter; this is the backstop that makes the
    limit a property of the renderer rather than of today's data.
    """
    text = environment().get_template(template).render(**values)
    sections = [section.strip("\n") for section in text.split("\n\n") if section.strip()]
    return "\n\n".join(clip(section, SECTION_LIMIT) for section in sections)
