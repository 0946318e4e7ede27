"""The triage card: one message per ticket in the support team's triage channel, updated in place.

Everything an engineer needs to decide and act without leaving the channel: what, who, how urgent and
why, where the SLA stands, and the buttons. The card is shared by every engineer, so it cannot know who
is looking: Claim shows on every open ticket ("Take over" once someone has it) and the claim service
makes a claim by the current assignee a no-op.

Interactive ids: buttons carry `TicketRef` JSON in `value`. Selects carry no value, so the actions
block's `block_id` is that same `TicketRef` JSON (`ticket_block_id`): the Assign and status handlers
read `TicketRef.load(action["block_id"])`.

Assign offers the support team only (a static menu of the people the caller passes, never Slack's
everyone-in-the-workspace user picker); the handler still checks whoever a payload names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    InteractiveElement,
    StaticSelectElement,
)

from desk.services.read_models import TicketSummary
from desk.services.search import SimilarTicket
from desk.slack.blocks import FALLBACK_LENGTH, PLACEHOLDER_MAX, Message, facts, kit, saved_replies
from desk.slack.blocks.search import similar_tickets
from desk.slack.blocks.text import clip, local_time, one_line, person_text
from desk.slack.ids import Action
from desk.slack.metadata import ProblemLink, TicketRef

DESCRIPTION_LENGTH = 600
TITLE_LENGTH = 300
REASON_LENGTH = 500
STATUS_CHOICES = ("new", "in_progress", "waiting_on_council")
"""The statuses an engineer may pick on the card; resolving goes through the Resolve modal (needs a note)."""


def ticket_value(ref: str) -> str:
    """A button's `value` for a ticket: `TicketRef` JSON, parsed strictly when it comes back."""
    return TicketRef(ref=ref).dump()


def ticket_block_id(ref: str) -> str:
    """The actions block id that names the ticket for selects, which have no `value` of their own."""
    return TicketRef(ref=ref).dump()


ASSIGN_OPTIONS_MAX = 100  # Slack's limit on a static select's options


class LinkedProblem(Protocol):
    """The shared problem a ticket is linked to (desk/services/problems.py `KnownProblem`)."""

    id: int
    ref: str
    title: str
    status_label: str


def triage_card(t: TicketSummary, now: datetime, assignees: Sequence[tuple[str, str]] = (),
                problem: LinkedProblem | None = None, similar: Sequence[SimilarTicket] = (),
                replies: Sequence[tuple[str, str]] = ()) -> Message:
    """The card posted to (and updated in) the triage channel for ticket `t`, as of `now`; `assignees` are
    (user id, name) of the people the Assign menu offers (none: no menu, Claim still works); `problem` the
    shared problem the ticket is linked to, if any (the card says so and offers "Unlink", else "Link");
    `similar`, earlier tickets like it (desk/services/search.py); `replies` (reply id, title) the saved
    replies its "Reply with…" menu offers (none: no menu)."""
    blocks: list[Block] = [
        kit.header(f"{t.ref} · {t.priority} {t.priority_name}"),
        kit.section(f"*{facts.title(t, TITLE_LENGTH)}*"),
        kit.context(_who(t)),
    ]
    if t.description.strip():
        blocks.append(kit.section(person_text(t.description, DESCRIPTION_LENGTH)))
    blocks += _changes(t, now)
    blocks.append(kit.fields([
        ("Status", facts.status_label(t.status)),
        ("Assignee", facts.assignee(t)),
        ("Respond", facts.respond_line(t, now)),
        (facts.resolve_label(t), facts.resolve_line(t, now)),
    ]))
    notes: list[str] = []
    if t.triage_reason.strip():
        notes.append(f"Why {person_text(t.priority, 20)}: {person_text(t.triage_reason, REASON_LENGTH)}")
    if t.rating is not None:
        notes.append(f"Council rated {facts.rating(t.rating)}")
    if t.follow_up_of:
        notes.append(f"Follow-up to {t.follow_up_of}")
    if t.follow_ups:
        notes.append(f"Follow-up{'s' if len(t.follow_ups) > 1 else ''}: {', '.join(t.follow_ups)}")
    if problem is not None:
        notes.append(f":large_yellow_circle: Part of problem *{person_text(problem.ref, 20)}* · "
                     f"{person_text(one_line(problem.title), 150)} ({person_text(problem.status_label, 40)})")
    if notes:
        blocks.append(kit.context(*notes))
    blocks += [b for b in [similar_tickets(similar)] if b is not None]
    actions = card_actions(t, assignees, problem, replies)
    if actions is not None:
        blocks.append(actions)
    return Message(text=_fallback(t), blocks=kit.dicts(blocks))


def _changes(t: TicketSummary, now: datetime) -> list[Block]:
    """What the council did to its request since: edited (shown "edited"; words that came after triage
    are shown beside the ones triaged), or deleted (the ticket stays)."""
    blocks: list[Block] = []
    if t.edit_after_triage is not None:
        blocks.append(kit.section(f"*Edited after triage:* {person_text(t.edit_after_triage, DESCRIPTION_LENGTH)}"))
    notes = []
    if t.edited_at is not None:
        notes.append(f":pencil2: edited by the council {local_time(t.edited_at, t.timezone, now)}")
    if t.message_deleted_at is not None:
        notes.append(f":wastebasket: the council's message was deleted {local_time(t.message_deleted_at, t.timezone, now)}"
                     " (the ticket stays)")
    if notes:
        blocks.append(kit.context(*notes))
    return blocks


def _who(t: TicketSummary) -> str:
    parts = [f":office: *{facts.council(t)}*", f"requested by {facts.requester(t)}"]
    if t.category:
        parts.append(person_text(t.category, 60))
    return " · ".join(parts)


def _fallback(t: TicketSummary) -> str:
    """Notification text: ref, priority, council and title; parsed as mrkdwn, so escaped like blocks."""
    return clip(f"{t.ref} · {facts.priority_label(t)} · {facts.council(t)}: {facts.title(t, 200)}",
                FALLBACK_LENGTH)


def card_actions(t: TicketSummary, assignees: Sequence[tuple[str, str]] = (),
                 problem: LinkedProblem | None = None,
                 replies: Sequence[tuple[str, str]] = ()) -> ActionsBlock | None:
    """The card's controls for the ticket's status; None for a closed ticket (nothing left to do)."""
    value = ticket_value(t.ref)
    elements: list[InteractiveElement] = []
    if t.is_open:
        elements.append(kit.button("Take over" if t.assignee else "Claim", Action.CLAIM, value=value))
        if assignees:
            elements.append(assign_select(assignees, t.assignee))
        elements.append(kit.button("Change priority", Action.CHANGE_PRIORITY, value=value))
        elements.append(status_select(t.status))
        elements.append(kit.button("Resolve", Action.RESOLVE, value=value, style="primary"))
        if problem is None:
            elements.append(kit.button("Link to problem", Action.LINK_PROBLEM, value=value))
        else:  # names the problem too: a click on an older card, or a second click, changes nothing
            elements.append(kit.button(f"Unlink from {problem.ref}", Action.UNLINK_PROBLEM,
                                       value=ProblemLink(ref=t.ref, problem=problem.id).dump()))
        if replies:
            elements.append(saved_replies.reply_select(replies))
    elif t.status == "resolved":
        elements.append(kit.button("Reopen", Action.REOPEN, value=value))
        elements.append(kit.button("Edit resolution note", Action.EDIT_RESOLUTION, value=value))
    if not elements:
        return None
    return ActionsBlock(block_id=ticket_block_id(t.ref), elements=elements)


def assign_select(assignees: Sequence[tuple[str, str]], current: str | None) -> StaticSelectElement:
    """The support team as a menu, the current assignee selected when they are in it."""
    options = [kit.option(name, user) for user, name in assignees[:ASSIGN_OPTIONS_MAX]]
    initial = next((option for option in options if option.value == current), None)
    return StaticSelectElement(
        action_id=str(Action.ASSIGN),
        placeholder=kit.plain("Assign to…", PLACEHOLDER_MAX),
        options=options,
        initial_option=initial,
    )


def status_select(current: str) -> StaticSelectElement:
    """Open statuses to move between, with the current one selected (Slack requires it be an option)."""
    options = [kit.option(facts.status_label(status), status) for status in STATUS_CHOICES]
    initial = next((option for option in options if option.value == current), None)
    return StaticSelectElement(
        action_id=str(Action.SET_STATUS),
        placeholder=kit.plain("Set status", PLACEHOLDER_MAX),
        options=options,
        initial_option=initial,
    )
