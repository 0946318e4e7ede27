"""The reactions desk puts on a ticket's card and on the council's message, so a channel shows state at
a glance: :eyes: someone has it, :white_check_mark: resolved, :rotating_light: raised to the top priority.

An engineer can make those changes with the reaction itself (desk/slack/listeners/reactions.py); made any
other way (the card, a modal, the command line), desk adds the matching reaction. It goes through the
outbox, written in the change's transaction (once per event), so a reaction is added even when Slack is
away at that moment; Slack's `already_reacted` is success.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from desk.db.tables import OutboxRow, TicketEventRow, TicketRow
from desk.services import sla_state

OUTBOX_KIND = "reaction"
VIA_REACTION = "reaction"  # an event's `via` when the change was made by a reaction: nothing to add


class StateReaction(StrEnum):
    """Each reaction an engineer may act with, and the one desk adds for the same change (emoji names)."""

    CLAIMED = "eyes"
    RESOLVED = "white_check_mark"
    RAISED = "rotating_light"


def top_priority(session: Session, ticket: TicketRow) -> str:
    """The most severe priority of the ticket's playbook (the file lists them most severe first)."""
    return next(iter(sla_state.playbook_for(session, ticket.playbook_version_id).priorities))


def reaction_for(session: Session, ticket: TicketRow, event: TicketEventRow) -> StateReaction | None:
    if event.data.get("via") == VIA_REACTION:
        return None  # the person's own reaction already shows it
    if event.type == "assigned" and event.data.get("to"):
        return StateReaction.CLAIMED
    if event.type == "resolved":
        return StateReaction.RESOLVED
    if event.type == "priority" and event.data.get("to") == top_priority(session, ticket):
        return StateReaction.RAISED
    return None


def queue(session: Session, ticket: TicketRow, event: TicketEventRow, at: datetime) -> None:
    """Write the reaction `event` calls for to the outbox, in the caller's transaction."""
    if ticket.card_channel is None and ticket.slack_channel is None:
        return  # nothing of it in Slack to show the state on (opened by hand, its card not yet posted)
    reaction = reaction_for(session, ticket, event)
    if reaction is None:
        return
    session.add(OutboxRow(idempotency_key=f"{OUTBOX_KIND}:{ticket.ref}:{event.seq}", kind=OUTBOX_KIND,
                          council_id=ticket.council_id, ticket_id=ticket.id, target=ticket.card_channel,
                          created_at=at, available_at=at, payload={"ref": ticket.ref, "name": str(reaction)}))
