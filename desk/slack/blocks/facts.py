"""How desk words a ticket's state, the same on every surface: status, people, SLA lines.

Cards, replies and App Home all say "due Mon 5 Jan 10:00 (in 2h 15m)" the same way, so a council and an
engineer looking at one ticket read one story. Every function returns safe mrkdwn.
"""

from __future__ import annotations

from datetime import datetime

from desk.services.read_models import SlaView, TicketSummary
from desk.slack.blocks.text import local_time, one_line, person_text, relative, user

STATUS_LABELS = {
    "new": "New",
    "in_progress": "In progress",
    "waiting_on_council": "Waiting on council",
    "resolved": "Resolved",
    "closed": "Closed",
}
OPEN_STATUSES = ("new", "in_progress", "waiting_on_council")
PAUSED = "paused — waiting on council"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status) or person_text(status.replace("_", " "), 40)


def priority_label(t: TicketSummary) -> str:
    """"P2 High": priority names come from playbooks, which are files people edit, so escaped too."""
    return person_text(one_line(f"{t.priority} {t.priority_name}"), 60)


def assignee(t: TicketSummary) -> str:
    return user(t.assignee) if t.assignee else "unassigned"


def requester(t: TicketSummary) -> str:
    return user(t.requester) if t.requester else "unknown"


def council(t: TicketSummary) -> str:
    return person_text(one_line(t.council_name), 100)


def title(t: TicketSummary, limit: int) -> str:
    return person_text(one_line(t.title), limit) or "(no title)"


def _at(at: datetime, t: TicketSummary, now: datetime) -> str:
    return f"{local_time(at, t.timezone, now)} ({relative(at, now)})"


def sla_line(metric: SlaView, done: str, t: TicketSummary, now: datetime) -> str:
    """One metric: due, met ("responded ✓ at …"), breached ("BREACHED at …") or paused.

    `done` is the verb for a stopped clock: "responded" or "resolved". A breach stays visible after the
    clock stops: the contract says a breach is never undone.
    """
    if metric.stopped_at is not None:
        stopped = local_time(metric.stopped_at, t.timezone, now)
        if metric.breached_at is not None:
            return f"{done} at {stopped} — breached at {local_time(metric.breached_at, t.timezone, now)}"
        return f"{done} ✓ at {stopped}"
    if metric.breached_at is not None:
        line = f":rotating_light: *BREACHED* at {_at(metric.breached_at, t, now)}"
        return f"{line} · {PAUSED}" if metric.paused else line
    if metric.paused:
        return PAUSED
    if metric.due_at is not None:
        return f"due {_at(metric.due_at, t, now)}"
    return "no target"


def respond_line(t: TicketSummary, now: datetime) -> str:
    return sla_line(t.respond, "responded", t, now)


def resolve_line(t: TicketSummary, now: datetime) -> str:
    return sla_line(t.resolve, "resolved", t, now)


def resolve_label(t: TicketSummary) -> str:
    """Reopened tickets run a new resolve cycle: say which one the line is about."""
    return f"Resolve (cycle {t.cycle})" if t.cycle > 1 else "Resolve"


def next_due(t: TicketSummary, now: datetime) -> str:
    """The one phrase a queue line needs: what is breached, paused or due next."""
    if not t.is_open:
        return status_label(t.status)
    for name, metric in (("respond", t.respond), ("resolve", t.resolve)):
        if metric.breached_at is not None and metric.stopped_at is None:
            return f":rotating_light: {name} breached {relative(metric.breached_at, now)}"
    running = [(name, metric.due_at) for name, metric in (("respond", t.respond), ("resolve", t.resolve))
               if metric.due_at is not None and metric.stopped_at is None and not metric.paused]
    if running:
        name, due_at = min(running, key=lambda pair: pair[1])
        return f"{name} due {relative(due_at, now)}"
    return PAUSED if t.resolve.paused else "no target running"


def rating(score: int) -> str:
    score = max(0, min(5, score))
    return f"{'★' * score}{'☆' * (5 - score)} ({score}/5)"
