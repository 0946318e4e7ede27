"""What the council reads in its thread when support changes its ticket out of sight (see
`desk.services.council_notices`): plain sentences, one short message each.

These sit in a Slack Connect channel: nothing internal goes here (no priority-change reasons, no notes),
and the only words of people's are the engineer's "what we need from you", escaped like all people's text.
"""

from __future__ import annotations

from datetime import datetime

from desk.services.council_notices import CouncilNotice, NoticeKind
from desk.slack.blocks import FALLBACK_LENGTH, Message, facts, kit
from desk.slack.blocks.text import clip, local_time, one_line, person_text

NEEDED_LENGTH = 1500
NAME_LENGTH = 80
SOMEONE = "An engineer"


def council_notice(n: CouncilNotice, now: datetime, *, assignee_name: str | None = None) -> Message:
    """The message for one notice; `assignee_name` is the engineer's name as Slack shows it (never an id)."""
    t = n.ticket
    ref = f"*{t.ref}*"
    lines: list[str]
    if n.kind is NoticeKind.WAITING:
        lines = [f":hourglass_flowing_sand: {ref} is waiting on you."]
        if n.needed:
            lines.append(f"*What we need:* {person_text(n.needed, NEEDED_LENGTH)}")
        lines.append("Reply in this thread when you can. The time to resolve is paused until you do.")
    elif n.kind is NoticeKind.STATUS:
        lines = [_status_line(n, ref)]
    elif n.kind is NoticeKind.PRIORITY:
        lines = [f":arrows_counterclockwise: {ref} is now {_label(n.priority_to)} "
                 f"(was {_label(n.priority_from)})."]
        lines += _due_lines(n, now)
    elif n.kind is NoticeKind.ASSIGNED:
        name = person_text(one_line(assignee_name), NAME_LENGTH) if assignee_name else SOMEONE
        lines = [f":bust_in_silhouette: {name} is looking after {ref}."]
    elif n.kind is NoticeKind.UNASSIGNED:
        lines = [f":bust_in_silhouette: {ref} is back with the support team, to be picked up by the next "
                 "engineer free."]
    else:  # a kind added to NoticeKind must be worded here before it is sent
        raise ValueError(f"no wording for notice {n.kind!r}")
    fallback = clip(lines[0].split(" ", 1)[1].replace(ref, t.ref, 1), FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts([kit.section("\n".join(lines))]))


def _status_line(n: CouncilNotice, ref: str) -> str:
    if n.status_to == "in_progress":
        again = " again" if n.status_from == "waiting_on_council" else ""
        clock = " The time to resolve is running again." if again else ""
        return f":arrow_forward: {ref} is in progress{again}: an engineer is working on it.{clock}"
    if n.status_to == "new":
        return f":inbox_tray: {ref} is back in the queue for an engineer to pick up."
    return f"{ref} is now {facts.status_label(n.status_to or '')}."


def _label(priority: str | None) -> str:
    return person_text(one_line(priority or "?"), 60)


def _due_lines(n: CouncilNotice, now: datetime) -> list[str]:
    """The targets that still run, in the council's local time."""
    t = n.ticket
    lines = []
    if t.respond.stopped_at is None and t.respond.due_at is not None:
        lines.append(f"We'll respond by {local_time(t.respond.due_at, t.timezone, now)}.")
    if t.resolve.paused:
        lines.append("The time to resolve is paused while we wait for you.")
    elif t.resolve.stopped_at is None and t.resolve.due_at is not None:
        lines.append(f"We aim to resolve it by {local_time(t.resolve.due_at, t.timezone, now)}.")
    return lines
