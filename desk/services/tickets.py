"""Ticket use cases: open, reply, comment, note, status, priority, assign, resolve, reopen, close.

Each one locks the council row (serialising refs and the event chain), checks the lifecycle, moves the
SLA engine, appends one or more events, and flushes. The caller commits (`unit_of_work`).

`council_id`, when given, scopes the lookup: a council-facing caller passes its tenant, and a ticket of
another council is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desk.db import new_tickets, queries
from desk.db.tables import CouncilRow, TicketEventRow, TicketRatingRow, TicketRow
from desk.domain import lifecycle
from desk.domain.calendar import business_calendar
from desk.domain.lifecycle import Status
from desk.domain.sla import TicketSla
from desk.domain.triage import TriageDecision, triage
from desk.errors import InvalidInput, InvalidTransition, NotFound
from desk.observability import metrics
from desk.services import audit, council_notices, search, sla_state, state_reactions

TITLE_MAX = 200
TITLE_WORDS = 120  # a title taken from a message's first line


@dataclass
class _Context:
    """A ticket with its council locked and its SLA loaded: what every change works on."""

    session: Session
    council: CouncilRow
    ticket: TicketRow
    sla: TicketSla

    def record(self, type: str, actor: str, at: datetime, **data) -> TicketEventRow:
        return audit.append_event(self.session, council=self.council, ticket=self.ticket, type=type,
                                  actor=actor, at=at, data=data)

    def move(self, wanted: Status, actor: str, at: datetime, **data) -> TicketEventRow:
        current = Status(self.ticket.status)
        if not lifecycle.can_move(current, wanted):
            raise InvalidTransition(self.ticket.ref, current, wanted)
        self.sla.set_status(str(wanted), at)
        self.ticket.status = str(wanted)
        return self.record("status", actor, at, **{"from": str(current), "to": str(wanted)}, **data)

    def tell_council(self, event: TicketEventRow, at: datetime) -> None:
        """A change support made out of the council's sight: the council hears it in its thread, and the
        channels show it with a reaction when it is one that has one (claimed, resolved, raised)."""
        council_notices.queue(self.session, self.ticket, event, at)
        state_reactions.queue(self.session, self.ticket, event, at)

    def save(self, at: datetime) -> TicketRow:
        self.ticket.updated_at = at
        self.session.add(self.ticket)
        sla_state.save(self.session, self.ticket, self.sla)
        self.session.flush()
        return self.ticket


def _via(via: str | None) -> dict[str, str]:
    """How a change was made, when it was not the usual way (`"reaction"`: an engineer's emoji)."""
    return {"via": via} if via else {}


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: services take aware instants")


def _context(session: Session, ref: str, council_id: str | None, at: datetime) -> _Context:
    _require_aware(at)
    ticket = queries.get_ticket(session, ref, council_id=council_id)
    council = queries.get_council(session, ticket.council_id, lock=True)
    session.refresh(ticket)  # re-read under the lock
    policy = sla_state.policy_for(session, ticket, council)
    return _Context(session, council, ticket, sla_state.load(session, ticket, policy))


def _require_text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    return value


def open_ticket(
    session: Session,
    *,
    council_id: str,
    title: str,
    at: datetime,
    actor: str,
    description: str = "",
    requester: str | None = None,
    category: str | None = None,
    impact: str | None = None,
    urgency: str | None = None,
    priority: str | None = None,
    slack_channel: str | None = None,
    slack_ts: str | None = None,
    follow_up_of: int | None = None,
) -> TicketRow:
    """Triage a request with the council's current playbook and open it, with its SLA clocks running."""
    _require_aware(at)
    title = _require_text(title, "a title")
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    council, version = new_tickets.lock_council(session, council_id)
    if version is None or version.id is None:
        raise NotFound(f"playbook {council.playbook_id!r} is not synced (run `desk playbooks sync`)")
    playbook = sla_state.playbook_of(session, version.id, version.content_hash)
    try:
        decision = triage(playbook, title, description, category=category, impact=impact,
                          urgency=urgency, priority=priority)
    except ValueError as err:
        raise InvalidInput(str(err)) from None
    number = council.next_number
    ticket = new_tickets.insert_ticket(  # its id, for its event and clocks
        session, council_id=council.id, number=number, ref=f"{council.ref_prefix}-{number}", title=title,
        description=description, requester=requester, status=str(Status.NEW), priority=decision.priority,
        category=decision.category, impact=decision.impact, urgency=decision.urgency,
        triage_rule=decision.rule, playbook_version_id=version.id, opened_at=at, updated_at=at,
        slack_channel=slack_channel, slack_ts=slack_ts, follow_up_of=follow_up_of)
    if ticket is None:
        existing = queries.find_ticket_by_message(session, slack_channel or "", slack_ts or "")
        raise InvalidInput(f"that message is already {existing.ref if existing else 'a ticket'}")
    # Numbered under the council's lock, like the chain head below: both go in one UPDATE of the council.
    council.next_number = number + 1
    policy = sla_state.policy_of(session, version.id, council.division)
    sla = TicketSla.open(policy, decision.priority, at)
    target = policy.target(decision.priority)
    event = audit.chained_values(council, ticket.id, ticket.ref, "opened", actor, at,
                                 _opened_data(ticket, decision, version.version, target.respond_within,
                                              target.resolve_within))
    new_tickets.write_opened(session, council, event, sla_state.new_clock_values(ticket.id, sla),
                             search.new_document(ticket))
    session.flush()
    metrics.TICKETS_OPENED.labels(council=council.id).inc()
    return ticket


def _opened_data(ticket: TicketRow, decision: TriageDecision, version: int, respond: int, resolve: int) -> dict:
    return {
        "title": ticket.title, "description": ticket.description, "requester": ticket.requester,
        "priority": decision.priority, "category": decision.category, "impact": decision.impact,
        "urgency": decision.urgency, "rule": decision.rule, "decided_by": decision.decided_by,
        "reason": decision.explain(), "playbook_version": version,
        "targets": {"respond": respond, "resolve": resolve},
        "slack": {"channel": ticket.slack_channel, "ts": ticket.slack_ts} if ticket.slack_ts else None,
        "follow_up_of": ticket.follow_up_of,
    }


def reply(session: Session, *, ref: str, text: str, actor: str, at: datetime,
          council_id: str | None = None, **data: object) -> TicketRow:
    """A public reply by support: it reaches the council and meets the respond target. `data` says more
    about it: where it came from when not the thread itself (`problem="PRB-3"`: a problem update posted to
    each ticket), or which saved reply (its id and version)."""
    ctx = _context(session, ref, council_id, at)
    _require_open(ctx)
    ctx.sla.reply(at)
    ctx.record("replied", actor, at, text=_require_text(text, "a reply"), **data)
    if ctx.ticket.status == Status.NEW:
        ctx.move(Status.IN_PROGRESS, actor, at, reason="first reply")
    saved = ctx.save(at)
    search.index_ticket(session, saved)  # what support told the council is searchable at once
    return saved


def comment(session: Session, *, ref: str, text: str, actor: str, at: datetime,
            council_id: str | None = None) -> TicketRow:
    """A council's message on its ticket; it hands a waiting ticket back to support."""
    ctx = _context(session, ref, council_id, at)
    _require_open(ctx)
    ctx.record("commented", actor, at, text=_require_text(text, "a comment"))
    if ctx.ticket.status == Status.WAITING_ON_COUNCIL:
        ctx.move(Status.IN_PROGRESS, actor, at, reason="council replied")
    return ctx.save(at)


def note(session: Session, *, ref: str, text: str, actor: str, at: datetime, **data: str) -> TicketRow:
    """A note: no SLA effect. Internal (never shown to the council) unless `data` says it was written in
    the council thread (`where="council_thread"`: support speaking after resolution)."""
    ctx = _context(session, ref, None, at)
    ctx.record("noted", actor, at, text=_require_text(text, "a note"), **data)
    return ctx.save(at)


def set_status(session: Session, *, ref: str, status: str, actor: str, at: datetime,
               reason: str | None = None, needed: str | None = None) -> TicketRow:
    """Move between the open statuses; resolving, reopening and closing have their own use cases.

    `needed` (waiting on the council) is what support asks the council for, in words the council reads.
    The council is told of the move in its thread."""
    try:
        wanted = Status(status)
    except ValueError:
        raise InvalidInput(f"{status!r} is not a status (one of: {', '.join(Status)})") from None
    if wanted not in lifecycle.OPEN_STATUSES:
        raise InvalidInput(f"use resolve or close to move a ticket to {wanted}")
    ctx = _context(session, ref, None, at)
    if ctx.ticket.status == wanted:
        return ctx.ticket
    if ctx.ticket.status not in lifecycle.OPEN_STATUSES:
        raise InvalidTransition(ctx.ticket.ref, ctx.ticket.status, wanted)
    needed = (needed or "").strip() if wanted == Status.WAITING_ON_COUNCIL else ""
    # what is needed goes under "text": a sealed key, so retention removes the words with the rest
    extra = {**({"reason": reason} if reason else {}), **({"text": needed} if needed else {})}
    ctx.tell_council(ctx.move(wanted, actor, at, **extra), at)
    return ctx.save(at)


def change_priority(session: Session, *, ref: str, priority: str, reason: str, actor: str,
                    at: datetime, via: str | None = None) -> TicketRow:
    """Re-prioritise, keeping elapsed time; old and new targets go in the event."""
    reason = _require_text(reason, "a reason for the priority change")
    ctx = _context(session, ref, None, at)
    _require_open(ctx)
    old = ctx.ticket.priority
    if priority == old:
        return ctx.ticket
    try:
        targets = ctx.sla.change_priority(priority, at)
    except ValueError as err:
        raise InvalidInput(str(err)) from None
    ctx.ticket.priority = priority
    event = ctx.record("priority", actor, at, **{"from": old, "to": priority, "reason": reason,
                       "targets": {metric: {"old": o, "new": n} for metric, (o, n) in targets.items()},
                       **_via(via)})
    ctx.tell_council(event, at)
    return ctx.save(at)


def assign(session: Session, *, ref: str, assignee: str | None, actor: str, at: datetime,
           chosen_by: dict | None = None, via: str | None = None) -> TicketRow:
    """`chosen_by`: the routing rule that chose the assignee (recorded on the event), for auto-assignment;
    `via`: how it was done, when not by the card (e.g. a reaction)."""
    ctx = _context(session, ref, None, at)
    old = ctx.ticket.assignee
    if assignee == old:
        return ctx.ticket
    if ctx.ticket.status == Status.CLOSED:
        raise InvalidInput(f"{ctx.ticket.ref} is closed, and closed is final")
    ctx.ticket.assignee = assignee
    why = {"chosen_by": chosen_by} if chosen_by else {}
    ctx.tell_council(ctx.record("assigned", actor, at, **{"from": old, "to": assignee}, **why, **_via(via)), at)
    return ctx.save(at)


def resolve(session: Session, *, ref: str, note: str, actor: str, at: datetime,
            via: str | None = None) -> TicketRow:
    """Resolve with a resolution note (which the council sees in its thread): stops both clocks."""
    text = _require_text(note, "a resolution note")
    ctx = _context(session, ref, None, at)
    current = Status(ctx.ticket.status)
    if not lifecycle.can_move(current, Status.RESOLVED):
        raise InvalidTransition(ctx.ticket.ref, current, Status.RESOLVED)
    ctx.sla.resolve(at)
    ctx.ticket.status, ctx.ticket.resolved_at = str(Status.RESOLVED), at
    ctx.ticket.close_due_at = close_due_at_for(session, ctx.ticket, ctx.council)
    event = ctx.record("resolved", actor, at, note=text, close_due_at=ctx.ticket.close_due_at.isoformat(),
                       **{"from": str(current)}, **_via(via))
    council_notices.queue_resolution(session, ctx.ticket, event, at)
    state_reactions.queue(session, ctx.ticket, event, at)
    return ctx.save(at)


def edit_resolution_note(session: Session, *, ref: str, note: str, actor: str, at: datetime) -> TicketRow:
    """Change a resolved ticket's note (a resolution made by reaction carries a default one): the council's
    resolution message shows the new words; the event keeps the old ones."""
    text = _require_text(note, "a resolution note")
    ctx = _context(session, ref, None, at)
    if ctx.ticket.status != Status.RESOLVED:
        raise InvalidInput(f"{ctx.ticket.ref} is {ctx.ticket.status}: only a resolved ticket's note can be edited")
    assert ctx.ticket.id is not None
    previous = council_notices.latest_note(session, ctx.ticket.id)
    if previous == text:
        return ctx.ticket
    ctx.record("resolution_edited", actor, at, note=text, **({"previous": previous} if previous else {}))
    return ctx.save(at)


def close_due_at_for(session: Session, ticket: TicketRow, council: CouncilRow) -> datetime:
    """When a resolved ticket closes: its playbook version's `close_after_days` on its council's calendar."""
    assert ticket.resolved_at is not None
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    calendar = business_calendar(playbook.calendar.with_division(council.division))
    return lifecycle.close_due_at(calendar, ticket.resolved_at, playbook.close_after_days)


def reopen(session: Session, *, ref: str, reason: str, actor: str, at: datetime,
           council_id: str | None = None, **data: str) -> TicketRow:
    """A resolved ticket back in progress: a new resolve cycle with the full target. `data` says how
    (`via`: "card", "thread", "not_fixed") for the event log."""
    text = _require_text(reason, "a reason to reopen")
    ctx = _context(session, ref, council_id, at)
    if ctx.ticket.status != Status.RESOLVED:
        raise InvalidTransition(ctx.ticket.ref, ctx.ticket.status, Status.IN_PROGRESS)
    ctx.sla.reopen(at)
    ctx.ticket.status, ctx.ticket.resolved_at, ctx.ticket.close_due_at = str(Status.IN_PROGRESS), None, None
    ctx.record("reopened", actor, at, reason=text, cycle=ctx.sla.current_resolve.cycle, **data)
    return ctx.save(at)


def close(session: Session, *, ref: str, actor: str, at: datetime) -> TicketRow:
    """Close a resolved ticket: final. Later council messages in its thread open a follow-up."""
    ctx = _context(session, ref, None, at)
    if ctx.ticket.status != Status.RESOLVED:
        raise InvalidTransition(ctx.ticket.ref, ctx.ticket.status, Status.CLOSED)
    due = ctx.ticket.close_due_at
    ctx.sla.set_status(str(Status.CLOSED), at)
    ctx.ticket.status, ctx.ticket.closed_at, ctx.ticket.close_due_at = str(Status.CLOSED), at, None
    ctx.record("closed", actor, at, **{"from": str(Status.RESOLVED),
                                       "due_at": due.isoformat() if due else None})
    return ctx.save(at)


CONFIRMING_EVENTS = ("assigned", "priority", "status", "replied", "resolved")
"""Events by support that confirm a ticket's triage: once one is recorded, an engineer has read the
request as it stood, so a later edit of the council's message no longer rewrites the ticket."""


def triage_confirmed(session: Session, ticket: TicketRow) -> bool:
    assert ticket.id is not None
    return bool(queries.list_ticket_events(session, ticket.id, types=CONFIRMING_EVENTS))


def request_edited(session: Session, *, ref: str, text: str, actor: str, at: datetime) -> TicketRow:
    """The council edited the message that opened the ticket. Before triage is confirmed the ticket's
    description (and a title taken from it) follows the new words; after, they are recorded for the
    engineer to read. Either way the event keeps the old words for the audit (sealed: retention removes
    them like any other words)."""
    ctx = _context(session, ref, None, at)
    old = ctx.ticket.description
    applied = not triage_confirmed(session, ctx.ticket)
    data: dict = {"text": text, "previous": old, "applied": applied}
    if applied:
        ctx.ticket.description = text
        derived = title_from(old)
        if derived and ctx.ticket.title == derived and title_from(text):  # the title was the first line
            ctx.ticket.title = data["title"] = title_from(text)
    ctx.record("edited", actor, at, **data)
    saved = ctx.save(at)
    search.index_ticket(session, saved)
    return saved


def request_deleted(session: Session, *, ref: str, actor: str, at: datetime) -> TicketRow:
    """The message that opened the ticket was deleted: the ticket stays, with a trace (the event keeps
    the words that were deleted, sealed like all words)."""
    ctx = _context(session, ref, None, at)
    ctx.record("message_deleted", actor, at, previous=ctx.ticket.description)
    return ctx.save(at)


def title_from(text: str) -> str:
    """A ticket title from a chat message: its first non-empty line, shortened."""
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= TITLE_WORDS else line[: TITLE_WORDS - 1].rstrip() + "…"


def rate(session: Session, *, ref: str, score: int, actor: str, at: datetime,
         council_id: str | None = None) -> bool:
    """A satisfaction rating (1-5) for the latest resolution; the first one counts, once per cycle."""
    if not 1 <= score <= 5:
        raise InvalidInput("a rating is from 1 to 5")
    ctx = _context(session, ref, council_id, at)
    if ctx.ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise InvalidInput(f"{ctx.ticket.ref} is {ctx.ticket.status}: it can be rated once it is resolved")
    cycle = ctx.sla.current_resolve.cycle
    assert ctx.ticket.id is not None
    if queries.find_rating(session, ctx.ticket.id, cycle) is not None:
        return False
    session.add(TicketRatingRow(ticket_id=ctx.ticket.id, cycle=cycle, score=score, rated_by=actor, rated_at=at))
    ctx.record("rated", actor, at, score=score, cycle=cycle)
    ctx.save(at)
    return True


def _require_open(ctx: _Context) -> None:
    if ctx.ticket.status not in lifecycle.OPEN_STATUSES:
        raise InvalidInput(f"{ctx.ticket.ref} is {ctx.ticket.status}: reopen it first")
