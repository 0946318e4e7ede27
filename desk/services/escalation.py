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
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from desk.db.tables import CouncilRow, OutboxRow, SlaClockRow, TicketRow
from desk.domain.calendar import business_calendar
from desk.domain.playbook import ClockKind
from desk.domain.sla import Coalesced, Firing
from desk.observability import logs, metrics
from desk.services import audit, rota, sla_state
from desk.services.tenancy import support_definition

log = logging.getLogger("desk.sweeper")

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
    """One pass over what is due by `now`. Failures are isolated per ticket (a savepoint each)."""
    rows = _claim(session, now, batch)
    report = SweepReport(claimed=len(rows))
    for ticket_id in dict.fromkeys(rows):  # a ticket due on both metrics once, in due order
        ticket = session.get(TicketRow, ticket_id)
        with logs.bind(ticket=ticket.ref if ticket else str(ticket_id)):
            _sweep_one(session, ticket_id, now, report)
    session.flush()
    return report


def _sweep_one(session: Session, ticket_id: int, now: datetime, report: SweepReport) -> None:
    nested = session.begin_nested()
    try:
        outcome = _sweep_ticket(session, ticket_id, now)
    except Exception:
        nested.rollback()
        log.exception("sweep failed for ticket %s; it will be retried", ticket_id)
        report.skipped.append(str(ticket_id))
        return
    nested.commit()
    if outcome is None:
        report.skipped.append(str(ticket_id))
        return
    written, coalesced = outcome
    report.tickets += 1
    report.sent += written
    if coalesced is not None:
        report.superseded += len(coalesced.superseded)
        firing = coalesced.sent
        metrics.SLA_STEPS.labels(kind=firing.kind, metric=str(firing.metric)).inc()
        metrics.SLA_STEPS_SUPERSEDED.inc(len(coalesced.superseded))
        log.info("%s %s at %s%% (cycle %s): %s notification(s), %s superseded", firing.metric, firing.kind,
                 firing.step.at_percent, firing.cycle, written, len(coalesced.superseded))


def _claim(session: Session, now: datetime, batch: int) -> list[int]:
    """The tickets of up to `batch` due clock rows, in due order (a ticket twice if both its clocks are)."""
    return list(session.exec(
        select(SlaClockRow.ticket_id)
        .where(col(SlaClockRow.next_step_at).is_not(None), col(SlaClockRow.next_step_at) <= now)
        .order_by(SlaClockRow.next_step_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all())


def _sweep_ticket(session: Session, ticket_id: int, now: datetime) -> tuple[int, Coalesced | None] | None:
    ticket = session.get(TicketRow, ticket_id)
    if ticket is None:
        return None
    council = session.exec(
        select(CouncilRow).where(CouncilRow.id == ticket.council_id).with_for_update(skip_locked=True)
    ).first()
    if council is None:
        return None  # someone is changing this council's tickets right now: next sweep
    session.refresh(ticket)
    policy = sla_state.policy_for(session, ticket, council)
    sla = sla_state.load(session, ticket, policy)
    coalesced = sla.take_due(now)
    written = 0
    if coalesced is not None:
        written = _write(session, ticket, coalesced, now)
        audit.append_event(session, council=council, ticket=ticket, type="escalated", actor="desk", at=now,
                           data=_event_data(coalesced))
    sla_state.save(session, ticket, sla)
    return written, coalesced


def _write(session: Session, ticket: TicketRow, coalesced: Coalesced, now: datetime) -> int:
    firing = coalesced.sent
    support = support_definition(session)
    held_until = _hold(session, ticket, firing, now)
    written = 0
    lead = None
    if "duty_lead" in firing.step.notify:  # whoever is on duty when the message reaches a person
        lead = rota.duty_lead(session, at=held_until or now)
    for role in firing.step.notify:
        for recipient in _recipients(role, ticket, support, lead):
            key = (f"esc:{ticket.id}:{firing.metric}:{firing.cycle}:{firing.step.index}:{firing.repeat}:"
                   f"{role}:{recipient}")
            if session.exec(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).first():
                continue
            available = held_until if role in PEOPLE and held_until else now
            session.add(OutboxRow(
                idempotency_key=key, kind="escalation", council_id=ticket.council_id, ticket_id=ticket.id,
                target=recipient, created_at=now, available_at=available,
                payload={"ref": ticket.ref, "role": role, **_firing_data(firing)}))
            written += 1
    return written


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
