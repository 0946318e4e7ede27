"""A saved reply filled in for one ticket: Jinja2's sandbox, every value escaped for Slack mrkdwn.

The body was checked when it was synced (`desk.domain.saved_replies`: only `{{ placeholder }}`), so the
sandbox is the second wall, not the first: a body that slipped past the check still cannot reach an
attribute or call anything. Undefined names fail (`StrictUndefined`) rather than vanish from a reply.

Two forms come out. `mrkdwn` is safe to post: the operator's words and every value escaped (`&`, `<`,
`>`), so a council named `<!channel>` pings nobody. `text` is the same reply as a person reads it, for the
modal's text box where the engineer edits it; what they submit is people's text, escaped again when it is
posted, so nothing is escaped twice and nothing typed becomes markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from desk.domain.saved_replies import Placeholder, SavedReply


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def _escaped(value: object) -> str:
    return _escape(_plain(value))


_ENVIRONMENTS = {
    "text": SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, finalize=_plain,
                                 keep_trailing_newline=False),
    "mrkdwn": SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, finalize=_escaped,
                                   keep_trailing_newline=False),
}


@dataclass(frozen=True)
class FilledReply:
    text: str  # for a person to read and edit (plain text)
    mrkdwn: str  # ready for Slack: every character that could be markup escaped


def fill(reply: SavedReply, values: Mapping[Placeholder, str]) -> FilledReply:
    """`reply` with `values` in its placeholders. A placeholder with no value is refused (ValueError):
    the caller supplies every member of `Placeholder`."""
    missing = [str(p) for p in reply.placeholders if p not in values]
    if missing:
        raise ValueError(f"saved reply {reply.id!r}: no value for {', '.join(missing)}")
    context = {str(name): value for name, value in values.items()}
    text = _ENVIRONMENTS["text"].from_string(reply.body).render(context)
    # the operator's own words are escaped too: the body is only `{{ name }}` tags and text
    mrkdwn = _ENVIRONMENTS["mrkdwn"].from_string(_escape(reply.body)).render(context)
    return FilledReply(text.strip(), mrkdwn.strip())
