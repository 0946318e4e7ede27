"""Saved replies (`playbooks/replies.yaml`): prepared answers an engineer picks on the triage card.

A reply is text with placeholders, `{{ council }}`, `{{ ref }}` and the like, and nothing else: no
`{% … %}` logic, no filters, no attributes. The people who write replies are operators editing YAML, and a
reply is posted to a council as the support team's word, so what a body may do is kept to what can be
checked here, before anything is synced: every placeholder must be one `Placeholder` names, or the whole
file is refused with the reply and the placeholder named. (Rendering, with Jinja2's sandbox and each value
escaped for Slack, lives in `desk/rendering/saved_replies.py`; this module stays free of template code.)

```yaml
replies:
  - id: card-terminal-restart        # lower case, digits and dashes; the reply's identity across versions
    title: Restart the card terminal  # what the card's "Reply with…" menu shows
    body: |
      Hello {{ requester }}, thanks for raising {{ ref }} …
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from desk.domain.yaml_document import Checker, key_path

REPLIES_FILES = ("replies.yaml", "replies.yml")
REPLY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
TITLE_MAX = 75  # a static select option's text
BODY_MAX = 2500  # the reply is edited in a text input (3000 at most) and posted in one section
# `{{ name }}` is the only template syntax a body may use; any other `{{`, `{%` or `{#` is refused.
_TAG = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_OPENING = re.compile(r"\{[{%#]")


class Placeholder(StrEnum):
    """What a reply may say about its ticket, each filled when an engineer picks the reply."""

    COUNCIL = "council"  # the council's name, "Cherwell District Council"
    REF = "ref"  # the ticket's ref, "CHW-12"
    TITLE = "title"  # the ticket's title
    REQUESTER = "requester"  # the requester's name as Slack shows it
    ENGINEER = "engineer"  # the name of the engineer sending the reply
    NEXT_WORKING_DAY = "next_working_day"  # the council's next working day (its calendar), "Tuesday 6 January"
    PRIORITY = "priority"  # "P2 High"
    RESPOND_WITHIN = "respond_within"  # the priority's respond target, "1 working hour"
    RESOLVE_WITHIN = "resolve_within"  # the priority's resolve target, "8 working hours"


@dataclass(frozen=True)
class SavedReply:
    id: str
    title: str
    body: str  # the template, as written

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(dict.fromkeys(Placeholder(name) for name in _TAG.findall(self.body)))


def template_problems(body: str) -> list[str]:
    """What is wrong with a body's placeholders, each naming the placeholder as written; [] when none."""
    problems: list[str] = []
    known = ", ".join(f"{{{{ {p} }}}}" for p in Placeholder)
    for tag in _TAG.finditer(body):
        if tag.group(1) not in set(Placeholder):
            problems.append(f"unknown placeholder {tag.group(0)} (known: {known})")
    rest = _TAG.sub("", body)
    for opening in _OPENING.finditer(rest):
        fragment = rest[opening.start(): opening.start() + 40].split("\n")[0]
        problems.append(f"{fragment!r} is not a placeholder: write {{{{ name }}}} with one of: {known}")
    return problems


def parse_replies(check: Checker, data: Any) -> dict[str, SavedReply]:
    """The `replies:` document; problems go to `check` (the caller refuses the whole file on any)."""
    body = check.fields(data, "", required=("replies",))
    if body is None:
        return {}
    items = check.sequence(body["replies"], "replies")
    replies: dict[str, SavedReply] = {}
    declared: set[str] = set()
    for index, item in enumerate(items or ()):
        declared_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(declared_id, str) and declared_id in declared:
            check.problem(key_path("replies", index), f'reply "{declared_id}" is declared twice')
            continue
        if isinstance(declared_id, str):
            declared.add(declared_id)
        reply = _reply(check, item, key_path("replies", index))
        if reply is not None:
            replies[reply.id] = reply
    return replies


def _reply(check: Checker, item: Any, key: str) -> SavedReply | None:
    fields = check.fields(item, key, required=("id", "title", "body"))
    if fields is None:
        return None
    before = len(check.problems)
    reply_id = check.matching(fields["id"], key_path(key, "id"), REPLY_ID,
                              "a reply id (lower case letters, digits and dashes, up to 64)")
    title = check.text(fields["title"], key_path(key, "title"))
    text = check.text(fields["body"], key_path(key, "body"))
    name = f'reply "{reply_id}"' if reply_id else "reply"
    if title is not None and len(title) > TITLE_MAX:
        check.problem(key_path(key, "title"), f"{name}: at most {TITLE_MAX} characters (Slack's menu limit), "
                                              f"not {len(title)}")
    if text is not None:
        if len(text) > BODY_MAX:
            check.problem(key_path(key, "body"), f"{name}: at most {BODY_MAX} characters, not {len(text)}")
        for problem in template_problems(text):
            check.problem(key_path(key, "body"), f"{name}: {problem}")
    if len(check.problems) > before or reply_id is None or title is None or text is None:
        return None
    return SavedReply(reply_id, title.strip(), text.strip())


def canonical(reply: SavedReply) -> Mapping[str, str]:
    """What a reply means, for versioning: a changed title or body is a new version."""
    return {"id": reply.id, "title": reply.title, "body": reply.body}


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def spoken_day(day: date) -> str:
    """A date as a reply says it, "Tuesday 6 January" (names spelt here: never the server's locale)."""
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"


def spoken_within(seconds: int, *, working: bool) -> str:
    """A target as a reply says it: "30 minutes", "1 hour 30 minutes", "8 working hours"."""
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    parts = []
    if hours:
        parts.append(f"{hours} {'working ' if working else ''}hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} {'working ' if working and not hours else ''}minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)
