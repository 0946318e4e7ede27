"""What the council is told in its thread when support changes its ticket somewhere the council cannot see.

A change made on the triage card, in a modal or from the command line is written to the outbox in the same
transaction as its event (`queue`), so a council hears about every one of them even when Slack is down at
that moment or the change was made by a process with no Slack client. What is said is read back from the
event when the notice is sent (`read`): the event is the one source of truth, and internal notes never
become notices. Changes the council makes itself (a reply in the thread moving a waiting ticket on) and
public replies by support need no notice: the council sees them happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import OutboxRow, TicketEventRow, TicketRow
from desk.domain.lifecycle import Status
from desk.services import sla_state
from desk.services.read_models import TicketSummary, summarize

OUTBOX_KIND = "council_notice"
RESOLUTION_KIND = "resolution"  # the resolution note with its rating buttons (posted by desk/slack/posting.py)


class NoticeKind(StrEnum):
    """What happened, as the council needs to hear it."""

    WAITING = "waiting"  # support needs something from the council; the resolve clock is paused
    STATUS = "status"  # another move between open statuses (back in progress, back in the queue)
    PRIORITY = "priority"  # old → new priority, and the new due times
    ASSIGNED = "assigned"  # a named engineer is looking after it
    UNASSIGNED = "unassigned"  # back with the team


@dataclass(frozen=True)
class CouncilNotice:
    kind: NoticeKind
    ticket: TicketSummary  # as it is when the notice is sent
    status_from: str | None = None
    status_to: str | None = None
    needed: str | None = None  # what support asked the council for (WAITING), in the engineer's words
    priority_from: str | None = None  # "P3 Medium"
    priority_to: str | None = None  # "P1 Critical"
    assignee: str | None = None  # a user id (ASSIGNED); the adapter turns it into a name


def kind_of(event: TicketEventRow) -> NoticeKind | None:
    """The notice an event calls for; None for events the council sees for itself or must never see."""
    if event.type == "status":
        return NoticeKind.WAITING if event.data.get("to") == Status.WAITING_ON_COUNCIL else NoticeKind.STATUS
    if event.type == "priority":
        return NoticeKind.PRIORITY
    if event.type == "assigned":
        return NoticeKind.ASSIGNED if event.data.get("to") else NoticeKind.UNASSIGNED
    return None


def queue(session: Session, ticket: TicketRow, event: TicketEventRow, at: datetime) -> None:
    """Write the notice for `event` to the outbox (once per event), in the caller's transaction."""
    if kind_of(event) is None or ticket.slack_channel is None:
        return  # nothing to say, or a ticket with no council conversation (opened by hand without one)
    session.add(OutboxRow(idempotency_key=f"notice:{ticket.ref}:{event.seq}", kind=OUTBOX_KIND,
                          council_id=ticket.council_id, ticket_id=ticket.id, target=ticket.slack_channel,
                          created_at=at, available_at=at, payload={"ref": ticket.ref, "seq": event.seq}))


def queue_resolution(session: Session, ticket: TicketRow, event: TicketEventRow, at: datetime) -> None:
    """The resolution note for the council's thread, whoever resolved and wherever (card, App Home, CLI).
    The dispatcher cancels it if the ticket is reopened before it is posted."""
    if ticket.slack_channel is None:
        return
    session.add(OutboxRow(idempotency_key=f"{RESOLUTION_KIND}:{ticket.ref}:{event.seq}", kind=RESOLUTION_KIND,
                          council_id=ticket.council_id, ticket_id=ticket.id, target=ticket.slack_channel,
                          created_at=at, available_at=at, payload={"ref": ticket.ref, "seq": event.seq}))


def resolution_note(session: Session, ref: str, payload: dict) -> str:
    """The note a `resolution` row posts, read from its `resolved` event, so the outbox keeps no copy of
    people's words that retention and `desk privacy redact` would miss. (Rows queued before carried it.)"""
    if "seq" not in payload:
        return str(payload.get("note") or "")
    ticket = queries.get_ticket(session, ref)
    assert ticket.id is not None
    # edited before it was posted (a resolution by reaction, its default note changed): the edit
    note = latest_note(session, ticket.id, int(payload["seq"]))
    return note if isinstance(note, str) else ""


def latest_note(session: Session, ticket_id: int, resolved_seq: int | None = None) -> str | None:
    """The words of a resolution as they stand: its `resolved` event's note, or the latest edit of it
    (`resolution_edited`). By default the latest resolution; `resolved_seq` names one. None once retention
    has removed the words."""
    events = queries.list_ticket_events(session, ticket_id, types=("resolved", "resolution_edited"))
    resolutions = [e for e in events if e.type == "resolved"]
    chosen = next((e for e in resolutions if e.seq == resolved_seq), None) if resolved_seq is not None \
        else (resolutions[-1] if resolutions else None)
    if chosen is None:
        return None
    until = next((e.seq for e in resolutions if e.seq > chosen.seq), None)
    edits = [e for e in events if e.type == "resolution_edited" and e.seq > chosen.seq
             and (until is None or e.seq < until)]
    note = (edits[-1] if edits else chosen).data.get("note")
    return note if isinstance(note, str) else None


def read(session: Session, ref: str, seq: int, now: datetime) -> CouncilNotice | None:
    """The notice for event `seq` of ticket `ref`, with the ticket as it is now; None if there is nothing
    to say (an unknown event, or words removed by retention)."""
    ticket = queries.get_ticket(session, ref)
    assert ticket.id is not None
    event = queries.find_ticket_event(session, ticket.id, seq)
    if event is None or (kind := kind_of(event)) is None:
        return None
    summary = summarize(session, ticket, now)
    data = event.data
    if kind is NoticeKind.PRIORITY:
        policy = sla_state.policy_for(session, ticket)
        return CouncilNotice(kind, summary, priority_from=_priority(policy, data["from"]),
                             priority_to=_priority(policy, data["to"]))
    if kind in (NoticeKind.ASSIGNED, NoticeKind.UNASSIGNED):
        return CouncilNotice(kind, summary, assignee=data.get("to"))
    needed = data.get("text")  # a retention marker (a dict) once the words are redacted
    return CouncilNotice(kind, summary, status_from=data.get("from"), status_to=data.get("to"),
                         needed=needed if isinstance(needed, str) else None)


def _priority(policy, code: str) -> str:
    try:
        return f"{code} {policy.target(code).name}"
    except (KeyError, ValueError):
        return code
