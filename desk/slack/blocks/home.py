"""App Home: the support engineer's queue, a council member's own tickets, or a polite "not set up".

A home view holds at most 100 blocks, so every list is capped and ends in "and N more"; the caps below
keep the whole view under the limit whatever the services pass in. Each ticket is one section with at
most one button as its accessory (value: `TicketRef` JSON). No block ids are set: a ticket may sit in two
queues at once ("breaching" and "mine"), and Slack refuses a view whose block ids repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock
from slack_sdk.models.views import View

from desk.services.problem_views import ProblemSummary
from desk.services.queues import Queue
from desk.services.read_models import TicketSummary
from desk.slack.blocks import facts, kit
from desk.slack.blocks.cards import ticket_value
from desk.slack.blocks.replies import LIST_LENGTH
from desk.slack.blocks.text import local_time, one_line, person_text, user
from desk.slack.ids import SLASH_COMMAND, Action

QUEUES = (
    ("breaching", "Breaching soon"),
    ("unassigned", "Unassigned"),
    ("mine", "Mine"),
    ("waiting", "Waiting on council"),
)
QUEUE_CAP = 15
"""4 queues × (header + 15 tickets + "and N more" + divider) + 3 = 75 blocks, well under 100."""
PROBLEM_CAP = 10
"""Open problems on the support home: header + one section + context = 3 blocks (78 in all)."""
COUNCIL_CAP = 40
"""header + button + divider + 40 tickets + "and N more" = 44 blocks."""
TITLE_LENGTH = 150


@dataclass(frozen=True)
class DutyLine:
    """Who is duty lead on the rota now, and when the next handover is (in the support calendar's zone)."""

    duty_lead: str | None
    next_handover_at: datetime
    timezone: str


def support(user_id: str, queues: Mapping[str, Queue | list[TicketSummary]], now: datetime,
            problems: Sequence[ProblemSummary] = (), duty: DutyLine | None = None) -> dict[str, Any]:
    """The engineer's queues, soonest due first (breached first) as the services sorted them before
    cutting them; each ends in "and N more" with the `/desk list` command that shows the rest. Then the
    open shared problems (at most `PROBLEM_CAP`), when there are any.

    Claim on a ticket someone else holds (or nobody does), Resolve on one the viewer holds. No "New
    request" button: requests come from councils. With a duty rota, a line says who is duty lead.
    """
    blocks: list[Block] = [
        kit.header("Support queue"),
        kit.context(f"For {user(user_id)} · next SLA due first, breached at the top · "
                    "refreshed when you open this tab"),
    ]
    if duty is not None:
        lead = user(duty.duty_lead) if duty.duty_lead else "nobody on the rota"
        blocks.append(kit.context(f"Duty lead: {lead} · next handover "
                                  f"{local_time(duty.next_handover_at, duty.timezone, now)}"))
    for key, heading in QUEUES:
        entry = queues.get(key) or []
        tickets, total = (entry.tickets, entry.total) if isinstance(entry, Queue) else (entry, len(entry))
        blocks.append(kit.header(f"{heading} ({total})"))
        if not tickets:
            blocks.append(kit.context("Nothing here."))
        shown = tickets[:QUEUE_CAP]
        blocks += [_support_row(t, user_id, now) for t in shown]
        if total > len(shown):
            blocks.append(kit.context(f"and {total - len(shown)} more: `{SLASH_COMMAND} list {key}` shows "
                                      f"up to {LIST_LENGTH}, `{SLASH_COMMAND} list {key} COUNCIL` one council's"))
        blocks.append(DividerBlock())
    if problems:
        blocks += _problems(problems)
    return View(type="home", blocks=blocks).to_dict()


def _problems(problems: Sequence[ProblemSummary]) -> list[Block]:
    """Open problems, one line each (3 blocks): `/desk problem show PRB-n` has the rest."""
    lines = [f"*{person_text(p.ref, 20)}* · {person_text(p.status_label, 40).capitalize()} · "
             f"{person_text(one_line(p.title), TITLE_LENGTH)} — {p.tickets} ticket{'s' * (p.tickets != 1)}, "
             f"{p.councils} council{'s' * (p.councils != 1)}" for p in problems[:PROBLEM_CAP]]
    more = f"and {len(problems) - PROBLEM_CAP} more · " if len(problems) > PROBLEM_CAP else ""
    return [kit.header(f"Open problems ({len(problems)})"), kit.section("\n".join(lines)),
            kit.context(f"{more}`{SLASH_COMMAND} problem show PRB-n` for one, `{SLASH_COMMAND} problem help` for "
                        "what you can do")]


def _support_row(t: TicketSummary, user_id: str, now: datetime) -> Block:
    text = (f"*{t.ref}* · {facts.priority_label(t)} · {facts.council(t)}\n"
            f"{facts.title(t, TITLE_LENGTH)}\n"
            f"{facts.status_label(t.status)} · {facts.assignee(t)} · {facts.next_due(t, now)}")
    return kit.section(text, accessory=_support_button(t, user_id))


def _support_button(t: TicketSummary, user_id: str) -> ButtonElement | None:
    if not t.is_open:
        return None
    if t.assignee == user_id:
        return kit.button("Resolve", Action.RESOLVE, value=ticket_value(t.ref), style="primary")
    return kit.button("Claim", Action.CLAIM, value=ticket_value(t.ref))


def council(council_name: str, tickets: list[TicketSummary], now: datetime) -> dict[str, Any]:
    """A council member's view: their council's open tickets and where each SLA stands, and a way to ask.

    Only what the services passed in is shown; they scope it to the viewer's council.
    """
    blocks: list[Block] = [
        kit.section(f"*{person_text(council_name, 150)}* · support requests"),
        ActionsBlock(elements=[kit.button("New request", Action.NEW_REQUEST, style="primary")]),
        DividerBlock(),
    ]
    if not tickets:
        blocks.append(kit.section("No open requests. Press *New request*, or post in your support channel."))
    for t in tickets[:COUNCIL_CAP]:
        blocks.append(kit.section(
            f"*{t.ref}* · {facts.title(t, TITLE_LENGTH)}\n"
            f"{facts.status_label(t.status)} · {facts.priority_label(t)} · {_council_sla(t, now)}"
        ))
    if len(tickets) > COUNCIL_CAP:
        blocks.append(kit.context(f"and {len(tickets) - COUNCIL_CAP} more"))
    return View(type="home", blocks=blocks).to_dict()


def _council_sla(t: TicketSummary, now: datetime) -> str:
    """Councils care whether someone has replied, then when it will be fixed."""
    if t.respond.stopped_at is None:
        return f"response: {facts.respond_line(t, now)}"
    return f"fix: {facts.resolve_line(t, now)}"


def unknown() -> dict[str, Any]:
    """For anyone whose organisation is not in the registry: no data, no buttons, who to ask."""
    blocks: list[Block] = [
        kit.header("desk isn't set up for your organisation"),
        kit.section(
            "desk is the support desk for the councils that share this service. Your workspace isn't "
            "registered as one of them, so there is nothing to show here.\n\n"
            "If your council should have access, ask your service lead to contact the support team that "
            "runs this service."
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()


def not_on_support_team() -> dict[str, Any]:
    """For someone in the support team's workspace whom the registry does not name: no queues, who to ask."""
    blocks: list[Block] = [
        kit.header("You're not on the support team in desk"),
        kit.section(
            "desk shows the support queues to the engineers, duty lead and service managers named in its "
            "registry. You're in the support team's workspace, but not one of them, so there is nothing to "
            "show here.\n\n"
            "If you should be, ask a service manager to add you (or the user group you are in)."
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()


def role_unconfirmed() -> dict[str, Any]:
    """When Slack could not say whether the viewer is on the support team (a user group it could not list)."""
    blocks: list[Block] = [
        kit.header("desk couldn't confirm your role just now"),
        kit.section(
            "Slack didn't answer when desk asked who is on the support team, so desk is showing nothing "
            "rather than guessing. Open this tab again in a minute."
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()
