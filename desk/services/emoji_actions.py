"""Emoji actions: what an engineer's reaction on a ticket's card, or on the council's message that opened
it, does to the ticket. :eyes: claims, :white_check_mark: resolves with a default note (editable from the
card afterwards), :rotating_light: raises to the playbook's top priority with the reason "raised by
reaction". Each change is recorded `via: reaction`, so desk does not add the same reaction again
(`state_reactions`). Who may act is the caller's question (`Power.WORK_TICKETS`), asked first.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.roles import Power, may
from desk.domain.tenancy import Actor
from desk.services import tickets
from desk.services.state_reactions import VIA_REACTION, StateReaction, top_priority

DEFAULT_NOTE = "Resolved by the support team. If anything is still not right, reply here or press Not fixed."
RAISED_REASON = "raised by reaction"


def act(session: Session, *, reaction: StateReaction, actor: Actor, channel: str, ts: str,
        at: datetime) -> str | None:
    """An engineer's reaction on a ticket's card or on the council's message that opened it: make the change
    it asks for. The ref changed, or None: not a ticket's message, not open, nothing to change. The caller
    has checked the actor may work tickets."""
    ticket = queries.find_ticket_by_card(session, channel, ts) or queries.find_ticket_by_message(session, channel, ts)
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return None
    ref = ticket.ref
    if reaction is StateReaction.CLAIMED:
        if ticket.assignee == actor.user or not may(actor, Power.BE_ASSIGNED):
            return None
        tickets.assign(session, ref=ref, assignee=actor.user, actor=actor.user, at=at, via=VIA_REACTION)
    elif reaction is StateReaction.RESOLVED:
        tickets.resolve(session, ref=ref, note=DEFAULT_NOTE, actor=actor.user, at=at, via=VIA_REACTION)
    elif reaction is StateReaction.RAISED:
        top = top_priority(session, ticket)
        if ticket.priority == top:
            return None
        tickets.change_priority(session, ref=ref, priority=top, reason=RAISED_REASON, actor=actor.user, at=at,
                                via=VIA_REACTION)
    else:
        raise ValueError(f"no action for the reaction {reaction!r}")
    return ref
