"""The duty rota at work: who the duty lead is when an escalation reaches a person, and auto-assignment.

The rota is read from the synced support configuration (`support.rota`), on the calendar of the playbook
it names (with its division). Without a rota, or for a week it names nobody for, the duty lead is the
registry's `support.duty_lead`, as before rotas existed, and nothing is assigned automatically.

Auto-assignment takes turns under each routing rule. Whose turn it is lives in `routing_turn`, one row per
rule, read under the row's lock in the transaction that opens the ticket: replicas opening tickets at the
same moment queue on that lock and each gets the next engineer, never the same one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from desk.db import queries
from desk.db.tables import RoutingTurnRow, TicketRow
from desk.domain.calendar import BusinessCalendar, business_calendar
from desk.domain.rota import Assignment, Duty, Rota, duty_at, next_in_turn
from desk.domain.rota_schema import rota_from_json
from desk.services import sla_state, tickets
from desk.services.tenancy import support_definition

log = logging.getLogger("desk.rota")

ROUTING_ACTOR = "desk"  # who the `assigned` event says acted: desk, by the rule the event names


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty at an instant, as the rota says or, without one, as `support.duty_lead` says."""

    at: datetime
    duty_lead: str | None  # whoever escalations for the duty lead reach now
    fallback: str | None  # support.duty_lead
    duty: Duty | None  # None: no rota (or its calendar's playbook is not synced)
    timezone: str | None = None  # the support calendar's, with a rota


def current(session: Session) -> tuple[Rota, BusinessCalendar] | None:
    """The synced rota and the support team's calendar; None without a rota."""
    data = support_definition(session).get("rota")
    if not data:
        return None
    rota = rota_from_json(data)
    version = queries.find_current_playbook_version(session, rota.calendar)
    if version is None or version.id is None:
        log.warning("support.rota.calendar names playbook %r, which is not synced: using support.duty_lead",
                    rota.calendar)
        return None
    spec = sla_state.playbook_for(session, version.id).calendar.with_division(rota.division)
    return rota, business_calendar(spec)


def on_duty(session: Session, *, at: datetime) -> OnDuty:
    fallback = support_definition(session).get("duty_lead")
    found = current(session)
    if found is None:
        return OnDuty(at, fallback, fallback, None)
    duty = duty_at(*found, at)
    return OnDuty(at, duty.duty_lead or fallback, fallback, duty, found[1].spec.timezone)


def duty_lead(session: Session, *, at: datetime) -> str | None:
    """Whoever is duty lead at `at`: the escalation target `duty_lead` resolved when it reaches a person."""
    return on_duty(session, at=at).duty_lead


def route(session: Session, ticket: TicketRow, *, at: datetime) -> TicketRow:
    """Assign a newly opened ticket by the first routing rule that matches it, if any; the `assigned`
    event names the rule, and the council is told as for any assignment."""
    found = current(session) if ticket.assignee is None else None
    rule = found[0].rule_for(ticket.council_id, ticket.category) if found else None
    if found is None or rule is None:
        return ticket
    rota, calendar = found
    duty = duty_at(rota, calendar, at)
    turn = _turn(session, rule.id, at)
    if rule.assign is not Assignment.ROUND_ROBIN:
        raise ValueError(f"routing rule {rule.id}: unknown assignment {rule.assign!r}")
    chosen = next_in_turn(duty, turn.last_assignee)
    if chosen is None:
        log.info("%s: rule %s found nobody on duty (rota %s): left for triage", ticket.ref, rule.id, duty.source)
        return ticket
    turn.last_assignee, turn.updated_at = chosen, at
    session.add(turn)
    return tickets.assign(session, ref=ticket.ref, assignee=chosen, actor=ROUTING_ACTOR, at=at,
                          chosen_by={"rule": rule.id, "assign": rule.assign.value, "rota": duty.source,
                                     "skipped_on_leave": [p for p in duty.on_leave if p in duty.rostered]})


def _turn(session: Session, rule_id: str, at: datetime) -> RoutingTurnRow:
    """The rule's turn row, created if new, locked until the transaction ends (FOR UPDATE on PostgreSQL;
    SQLite has one writer at a time already)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(RoutingTurnRow).values(rule_id=rule_id, last_assignee=None, updated_at=at)
                    .on_conflict_do_nothing())
    statement = select(RoutingTurnRow).where(RoutingTurnRow.rule_id == rule_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).one()
