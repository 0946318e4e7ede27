"""What people are shown about a ticket: plain values, computed once, rendered by any adapter.

Builders (Slack blocks, CLI, reports) take these and never reach back into the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import CouncilRow, SlaClockRow, TicketEventRow, TicketRatingRow, TicketRow
from desk.domain.sla import TicketSla
from desk.services import sla_state


@dataclass(frozen=True)
class SlaView:
    """One metric as of now: its due instant, whether it stopped, whether it breached."""

    due_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    paused: bool = False

    @property
    def breached(self) -> bool:
        return self.breached_at is not None


@dataclass(frozen=True)
class TicketSummary:
    ref: str
    council_id: str
    council_name: str
    title: str
    description: str
    status: str
    priority: str
    priority_name: str
    category: str | None
    requester: str | None
    assignee: str | None
    triage_reason: str  # "P1 by rule cannot-take-payments (impact high × urgency high)"
    opened_at: datetime
    timezone: str  # the council calendar's, for showing local times
    respond: SlaView
    resolve: SlaView  # the current cycle
    cycle: int
    rating: int | None = None
    thread_channel: str | None = None  # the council thread (the request, or desk's post for it)
    thread_ts: str | None = None
    follow_up_of: str | None = None  # the closed ticket this one follows up (its ref)
    follow_ups: tuple[str, ...] = ()  # tickets opened as follow-ups of this one (refs, oldest first)
    close_due_at: datetime | None = None  # while resolved: when it closes
    edited_at: datetime | None = None  # the council last edited its request (the opening message)
    edit_after_triage: str | None = None  # its latest words, when they came after triage was confirmed
    message_deleted_at: datetime | None = None  # the opening message was deleted (the ticket stays)

    @property
    def is_open(self) -> bool:
        return self.status in ("new", "in_progress", "waiting_on_council")

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest running target: what a queue sorts by."""
        dues = [m.due_at for m in (self.respond, self.resolve) if m.due_at and not m.stopped_at]
        return min(dues, default=None)


def summarize(session: Session, ticket: TicketRow, now: datetime) -> TicketSummary:
    return summarize_many(session, [ticket], now)[0]


def summarize_many(session: Session, tickets: Sequence[TicketRow], now: datetime, *, with_history: bool = True,
                   clocks: Mapping[int, list[SlaClockRow]] | None = None,
                   councils: Mapping[str, CouncilRow] | None = None,
                   slas: Mapping[int, TicketSla] | None = None) -> list[TicketSummary]:
    """Summaries of several tickets, each table read once for all of them (the dispatcher renders a batch).
    `with_history=False`, for a message that shows none of it (an escalation): the events, ratings and
    follow-ups are not read, and what comes of them stays empty (triage reason, rating, edits, follow-ups).
    `clocks` (by ticket id) and `councils` (by id): rows the caller has read in this transaction, not read
    again (what they lack is); `slas` (by ticket id): what the caller worked out from those same rows."""
    ids = [ticket.id for ticket in tickets if ticket.id is not None]
    known_clocks, known_councils = clocks or {}, councils or {}
    clock_rows = {**sla_state.clocks_of(session, [i for i in ids if i not in known_clocks]),
                  **{i: known_clocks[i] for i in ids if i in known_clocks}}
    history: dict[int, list[TicketEventRow]] = {ticket_id: [] for ticket_id in ids}
    ratings: dict[tuple[int, int], TicketRatingRow] = {}
    follow_ups: dict[int, list[str]] = {ticket_id: [] for ticket_id in ids}
    parents = {ticket.follow_up_of for ticket in tickets if ticket.follow_up_of is not None} if with_history else set()
    refs: dict[int, str] = {}
    unknown = {ticket.council_id for ticket in tickets} - known_councils.keys()
    council_rows = {**(queries.councils_by_id(session, unknown) if unknown else {}), **known_councils}
    if ids and with_history:
        for event in queries.list_events_of(session, ids, types=("opened", "priority", "edited", "message_deleted")):
            history[event.ticket_id].append(event)
        for rating in queries.list_ratings_of(session, ids):
            ratings.setdefault((rating.ticket_id, rating.cycle), rating)
        for follow_up in queries.list_follow_ups_of(session, ids):
            follow_ups[follow_up.follow_up_of].append(follow_up.ref)
    if parents:
        refs = queries.refs_of(session, parents)
    known_slas = slas or {}
    return [_summary(session, ticket, now, council_rows.get(ticket.council_id), clock_rows.get(ticket.id, []),
                     history.get(ticket.id, []), ratings, tuple(follow_ups.get(ticket.id, ())), refs,
                     known_slas.get(ticket.id) if ticket.id is not None else None)
            for ticket in tickets]


def _summary(session: Session, ticket: TicketRow, now: datetime, council: CouncilRow | None, clocks: list,
             history: list[TicketEventRow],
             ratings: dict[tuple[int, int], TicketRatingRow], follow_ups: tuple[str, ...],
             refs: dict[int, str], sla: TicketSla | None = None) -> TicketSummary:
    council = council or queries.get_council(session, ticket.council_id)  # raises NotFound, as it always did
    policy = sla_state.policy_for(session, ticket, council)
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    sla = sla or sla_state.of_rows(ticket, policy, clocks)
    respond, resolve = sla.respond, sla.current_resolve
    decisions = [e for e in history if e.type in ("opened", "priority")]
    edits = [e for e in history if e.type == "edited"]
    deleted = next((e for e in reversed(history) if e.type == "message_deleted"), None)
    late = edits[-1].data.get("text") if edits and not edits[-1].data.get("applied") else None
    rating = ratings.get((ticket.id, resolve.cycle)) if ticket.id else None
    return TicketSummary(
        ref=ticket.ref,
        council_id=council.id,
        council_name=council.name,
        title=ticket.title,
        description=ticket.description,
        status=ticket.status,
        priority=ticket.priority,
        priority_name=policy.target(ticket.priority).name,
        category=ticket.category,
        requester=ticket.requester,
        assignee=ticket.assignee,
        triage_reason=_reason(decisions[-1]) if decisions else "",
        opened_at=ticket.opened_at,
        timezone=playbook.calendar.timezone,
        respond=SlaView(respond.due_at, respond.stopped_at, respond.breached_as_of(now)),
        resolve=SlaView(resolve.due_at, resolve.stopped_at, resolve.breached_as_of(now), resolve.paused),
        cycle=resolve.cycle,
        rating=rating.score if rating else None,
        thread_channel=ticket.slack_channel,
        thread_ts=ticket.slack_ts,
        follow_up_of=refs.get(ticket.follow_up_of) if ticket.follow_up_of is not None else None,
        follow_ups=follow_ups if ticket.id else (),
        close_due_at=ticket.close_due_at,
        edited_at=edits[-1].at if edits else None,
        edit_after_triage=late if isinstance(late, str) else None,  # not once retention removed the words
        message_deleted_at=deleted.at if deleted else None,
    )


def _reason(event: TicketEventRow) -> str:
    """Why the ticket has its priority: the triage decision, or the last change and its reason."""
    reason = event.data.get("reason", "")
    reason = reason if isinstance(reason, str) else "(redacted)"  # retention replaced the words
    if event.type == "opened":
        return reason
    return f"{event.data['to']} (was {event.data['from']}): {reason}"
