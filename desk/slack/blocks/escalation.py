"""Escalations and alerts: what is due, how late, who holds it, with buttons to claim or open it."""

from __future__ import annotations

from datetime import datetime

from desk.services.read_models import TicketSummary
from desk.slack.blocks import Message, facts, kit_dicts
from desk.slack.blocks.kit import dicts, section
from desk.slack.blocks.text import duration, local_time, person_text
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef

METRIC_WORDS = {"respond": "first response", "resolve": "resolution"}


def escalation(t: TicketSummary, payload: dict, now: datetime, thread_url: str | None) -> Message:
    """`payload` is the outbox row's: metric, cycle, kind, threshold, repeat, at (the step's instant)."""
    metric = METRIC_WORDS.get(payload["metric"], payload["metric"])
    view = t.respond if payload["metric"] == "respond" else t.resolve
    due = view.due_at
    if payload["kind"] == "breach":
        late = duration(now - due) if due and now > due else "just now"
        headline = f":rotating_light: *{t.ref}* {metric} target *breached* ({late} late)"
        if payload.get("repeat"):
            headline += f", reminder {payload['repeat']}"
    else:
        left = f", due {local_time(due, t.timezone, now)}" if due else ""
        headline = f":warning: *{t.ref}* {metric} target {payload['threshold']}% used{left}"
    lines = [
        headline,
        f"*{facts.title(t, 200)}* · {facts.council(t)} · {facts.priority_label(t)}",
        f"Held by {facts.assignee(t)} · status {facts.status_label(t.status)}",
    ]
    if payload.get("cycle", 1) > 1:
        lines.append(f"Resolve cycle {payload['cycle']} (reopened)")
    claim = kit_dicts.button("Claim", Action.CLAIM, value=TicketRef(ref=t.ref).dump(), style="primary")
    blocks = [kit_dicts.section("\n".join(lines))]  # built as dicts: one per outbox row (see kit_dicts)
    if thread_url:
        blocks.append(kit_dicts.context(f"<{thread_url}|Open the council thread>"))
    blocks.append(kit_dicts.actions(claim))
    text = f"{t.ref}: {metric} {'breached' if payload['kind'] == 'breach' else 'warning'}"
    return Message(text=text, blocks=blocks)


def alert(payload: dict) -> Message:
    """A notification desk could not deliver, for the support team to act on."""
    what = person_text(str(payload.get("failed_kind", "notification")), 40)
    ref = person_text(str(payload.get("ref") or ""), 20)
    target = person_text(str(payload.get("target") or ""), 40)
    code = person_text(str(payload.get("error") or "unknown error"), 100)
    body = f":warning: desk could not deliver a {what}{' for *' + ref + '*' if ref else ''} to {target}: `{code}`."
    return Message(text=f"desk could not deliver a {what}", blocks=dicts([section(body)]))
