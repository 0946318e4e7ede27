"""The sweeper: SLA steps that are due become outbox rows, once, in the transaction that marks them done.

Selection uses the indexed `sla_clock.next_step_at` (never a scan of open tickets), so the cost of a sweep
grows with what is due, not with what is open. Per ticket, in one transaction: the engine decides the step
(coalescing everything overdue into the most severe), one outbox row per recipient is written under a
unique key, an `escalated` event joins the audit chain, and the SLA state moves on.

Locks are only ever taken without waiting while another is held: candidate rows are claimed with
`FOR UPDATE SKIP LOCKED`, and a ticket whose council row is busy (someone is changing it) is left for the
next sweep, seconds later. Two workers therefore never wait on each other or send twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from desk.db.tables import CouncilRow, OutboxRow, SlaClockRow, TicketEventRow, TicketRow
from desk.domain.calendar import business_calendar
from desk.domain.playbook import ClockKind
from desk.domain.sla import Coalesced, Firing, TicketSla
from desk.observability import logs, metrics
from desk.services import audit, rota, sla_state
from desk.services.tenancy import support_definition

log = logging.getLogger("desk.sweeper")
T = TypeVar("T")

BATCH = 100
PEOPLE = ("assignee", "duty_lead", "service_manager")


@dataclass
class SweepReport:
    tickets: int = 0
    sent: int = 0  # outbox rows written
    superseded: int = 0  # steps recorded as done without a message (coalesced)
    skipped: list[str] = field(default_factory=list)  # refs left for the next sweep (busy or failed)
    claimed: int = 0  # clock rows claimed: fewer than the batch means nothing else was due


def next_due_at(session: Session) -> datetime | None:
    """When the next step anywhere falls due: what the scheduler sleeps until."""
    return session.exec(select(func.min(SlaClockRow.next_step_at))).one()


def steps_due(session: Session, *, now: datetime) -> int:
    """Clocks whose next step is due by `now` and not yet swept: zero, or briefly more, when all is well."""
    due = col(SlaClockRow.next_step_at)
    return session.exec(select(func.count()).select_from(SlaClockRow).where(due.is_not(None), due <= now)).one()


def sweep(session: Session, *, now: datetime, batch: int = BATCH) -> SweepReport:
    """One pass over what is due by `now`, its tickets worked together (see `_escalate`). Failures are
    isolated per ticket: if the batch fails, it is rolled back and worked again ticket by ticket, a
    savepoint each, so one broken ticket costs only itself."""
    rows = _claim(session, now, batch)
    report = SweepReport(claimed=len(rows))
    ticket_ids = list(dict.fromkeys(rows))  # a ticket due on both metrics once, in due order
    if not ticket_ids:
        return report
    ok, outcomes = _isolated(session, lambda: _escalate(session, ticket_ids, now),
                             "sweep of %s ticket(s) failed as a batch; working them one by one", len(ticket_ids))
    for ticket_id in ticket_ids:
        if ok:
            _record(report, ticket_id, outcomes.get(ticket_id))
        else:
            _sweep_one(session, ticket_id, now, report)
    session.flush()
    return report


def _sweep_one(session: Session, ticket_id: int, now: datetime, report: SweepReport) -> None:
    ticket = session.get(TicketRow, ticket_id)
    with logs.bind(ticket=ticket.ref if ticket else str(ticket_id)):
        ok, outcome = _isolated(session, lambda: _sweep_ticket(session, ticket_id, now),
                                "sweep failed for ticket %s; it will be retried", ticket_id)
    if ok:
        _record(report, ticket_id, outcome)
    else:
        report.skipped.append(str(ticket_id))


def _isolated(session: Session, work: Callable[[], T], failed: str, *args: object) -> tuple[bool, T | None]:
    """`work` in a savepoint: (True, its result), or, if it raised, (False, None) with everything it did
    rolled back and `failed` logged with the trace."""
    nested = session.begin_nested()
    try:
        result = work()
        nested.commit()
    except Exception:
        nested.rollback()
        log.exception(failed, *args)
        return False, None
    return True, result


def _record(report: SweepReport, ticket_id: int, outcome: Outcome | None) -> None:
    """Count a ticket's outcome, and say what it sent (under its ref) once its transaction holds it."""
    if outcome is None:
        report.skipped.append(str(ticket_id))
        return
    report.tickets += 1
    report.sent += outcome.written
    coalesced = outcome.coalesced
    if coalesced is None:
        return
    report.superseded += len(coalesced.superseded)
    firing = coalesced.sent
    metrics.SLA_STEPS.labels(kind=firing.kind, metric=str(firing.metric)).inc()
    metrics.SLA_STEPS_SUPERSEDED.inc(len(coalesced.superseded))
    with logs.bind(ticket=outcome.ref):
        log.info("%s %s at %s%% (cycle %s): %s notification(s), %s superseded", firing.metric, firing.kind,
                 firing.step.at_percent, firing.cycle, outcome.written, len(coalesced.superseded))


def _claim(session: Session, now: datetime, batch: int) -> list[int]:
    """The tickets of up to `batch` due clock rows, in due order (a ticket twice if both its clocks are)."""
    return list(session.exec(
        select(SlaClockRow.ticket_id)
        .where(col(SlaClockRow.next_step_at).is_not(None), col(SlaClockRow.next_step_at) <= now)
        .order_by(SlaClockRow.next_step_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all())


def _sweep_ticket(session: Session, ticket_id: int, now: datetime) -> Outcome | None:
    """One ticket on its own: the batch's work for a batch of one."""
    return _escalate(session, [ticket_id], now).get(ticket_id)


def _escalate(session: Session, ticket_ids: list[int], now: datetime) -> dict[int, Outcome]:
    """Take the due steps of these tickets, together: their council rows locked (without waiting), the
    tickets, their clocks and the outbox keys already written each read in one query, then every write
    flushed at once. A ticket whose council row is busy (someone is changing it) or that is gone has no
    outcome: it is left for the next sweep. Each council's chain head is read once and carried from one
    event to the next, in due order, as one ticket at a time would."""
    council_of = dict(session.exec(
        select(TicketRow.id, TicketRow.council_id).where(col(TicketRow.id).in_(ticket_ids))).all())
    councils = {council.id: council for council in session.exec(
        select(CouncilRow).where(col(CouncilRow.id).in_(set(council_of.values())))
        .with_for_update(skip_locked=True)).all()}
    held = [ticket_id for ticket_id in ticket_ids if council_of.get(ticket_id) in councils]
    if not held:
        return {}
    tickets = {ticket.id: ticket for ticket in session.exec(  # read again now the councils are held
        select(TicketRow).where(col(TicketRow.id).in_(held)).execution_options(populate_existing=True)).all()}
    clocks = sla_state.clocks_of(session, held)
    batch = _Batch(session, now)
    taken: dict[int, tuple[TicketSla, Coalesced | None]] = {}
    for ticket_id in held:
        ticket = tickets[ticket_id]
        policy = sla_state.policy_of(session, ticket.playbook_version_id, councils[ticket.council_id].division)
        sla = sla_state.of_rows(ticket, policy, clocks[ticket_id])
        taken[ticket_id] = sla, sla.take_due(now)
    planned = {ticket_id: _plan(batch, tickets[ticket_id], coalesced)
               for ticket_id, (_, coalesced) in taken.items() if coalesced is not None}
    keys = [row["idempotency_key"] for rows in planned.values() for row in rows]
    written = set(session.exec(select(OutboxRow.idempotency_key)
                               .where(col(OutboxRow.idempotency_key).in_(keys))).all()) if keys else set()
    outcomes, outbox, events = {}, [], []
    for ticket_id, (sla, coalesced) in taken.items():
        ticket = tickets[ticket_id]
        fresh = [row for row in planned.get(ticket_id, []) if row["idempotency_key"] not in written]
        outbox += fresh
        if coalesced is not None:
            council = councils[ticket.council_id]
            events.append(audit.chained_values(council, ticket.id, ticket.ref, "escalated", "desk", now,
                                               _event_data(coalesced)))
            session.add(council)
        sla_state.save(session, ticket, sla, {(row.metric, row.cycle): row for row in clocks[ticket_id]})
        outcomes[ticket_id] = Outcome(ticket.ref, len(fresh), coalesced)
    for table, rows in ((OutboxRow, outbox), (TicketEventRow, events)):
        if rows:  # one executemany each (no ORM objects: nothing here reads them back)
            session.execute(insert(table), rows)
    session.flush()
    return outcomes


@dataclass(frozen=True)
class Outcome:
    ref: str
    written: int  # outbox rows
    coalesced: Coalesced | None  # the step taken (None: nothing was due after all)


class _Batch:
    """What every ticket of a batch shares, read once: the support block, playbooks, duty leads."""

    def __init__(self, session: Session, now: datetime):
        self.session, self.now = session, now
        self.support = support_definition(session)
        self._leads: dict[datetime, str | None] = {}

    def duty_lead(self, at: datetime) -> str | None:
        if at not in self._leads:
            self._leads[at] = rota.duty_lead(self.session, at=at)
        return self._leads[at]


def _plan(batch: _Batch, ticket: TicketRow, coalesced: Coalesced) -> list[dict]:
    """The outbox rows (column values) a step asks for: one per recipient, each under its unique key."""
    firing, now = coalesced.sent, batch.now
    held_until = _hold(batch.session, ticket, firing, now)
    lead = None
    if "duty_lead" in firing.step.notify:  # whoever is on duty when the message reaches a person
        lead = batch.duty_lead(held_until or now)
    rows: dict[str, dict] = {}
    for role in firing.step.notify:
        for recipient in _recipients(role, ticket, batch.support, lead):
            key = (f"esc:{ticket.id}:{firing.metric}:{firing.cycle}:{firing.step.index}:{firing.repeat}:"
                   f"{role}:{recipient}")
            available = held_until if role in PEOPLE and held_until else now
            rows.setdefault(key, {
                "idempotency_key": key, "kind": "escalation", "council_id": ticket.council_id,
                "ticket_id": ticket.id, "target": recipient, "created_at": now, "available_at": available,
                "payload": {"ref": ticket.ref, "role": role, **_firing_data(firing)}, "status": "pending",
                "attempts": 0, "claimed_until": None, "sent_at": None, "slack_ts": None, "last_error": None})
    return list(rows.values())


def _recipients(role: str, ticket: TicketRow, support: dict, lead: str | None) -> list[str]:
    """Who a role is, for this ticket. `triage` is the card's thread; people are user or group ids.
    `lead` is the duty lead on the rota (or `support.duty_lead`) when the message is released."""
    if role == "assignee":
        return [ticket.assignee] if ticket.assignee else ["triage"]  # unassigned: the triage channel
    if role == "duty_lead":
        return [lead] if lead else ["triage"]
    if role == "service_manager":
        return list(support.get("service_managers") or []) or ["triage"]
    return ["triage"]


def _hold(session: Session, ticket: TicketRow, firing: Firing, now: datetime) -> datetime | None:
    """Warnings on a business clock wait for the support calendar's next working window before they
    reach a person; breaches and 24x7 targets do not wait."""
    if firing.step.is_breach:
        return None
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    if playbook.priorities[ticket.priority].clock is ClockKind.ALWAYS:
        return None
    opens = business_calendar(playbook.calendar).next_working(now)
    return opens if opens > now else None


def _firing_data(firing: Firing) -> dict:
    return {"metric": str(firing.metric), "cycle": firing.cycle, "kind": firing.kind,
            "threshold": firing.step.at_percent, "repeat": firing.repeat, "step": firing.step.index,
            "at": firing.at.isoformat()}


def _event_data(coalesced: Coalesced) -> dict:
    return {**_firing_data(coalesced.sent), "notify": list(coalesced.sent.step.notify),
            "superseded": [_firing_data(f) for f in coalesced.superseded]}
