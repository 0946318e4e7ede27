"""Weekly digests: what a council's week (and the managers' week) looked like, and queuing them once.

Computing and sending are apart on purpose. `council_digest` and `managers_digest` return plain values
(rendered by `desk.rendering.digests`, never here); `enqueue*` only writes an outbox row under a unique
key, and the dispatcher computes, renders and posts when it delivers. A row's key is the promise that a
week is sent once: `digest:{council}:{week}`, or `…:force:{n}` for a deliberate resend.

Figures are defined in `digest_stats.py`; weeks and windows in `digest_weeks.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import CouncilRow, OutboxRow
from desk.domain.calendar import business_calendar
from desk.domain.playbook import Playbook
from desk.errors import DeskError, InvalidInput, NotFound
from desk.services import digest_stats as stats
from desk.services import sla_state
from desk.services.digest_stats import (
    AtRisk,
    Breach,
    Compliance,
    DayCount,
    OldestOpen,
    TicketAtEnd,
    TicketLine,
)
from desk.services.digest_weeks import (
    MANAGERS_SCHEDULE,
    Schedule,
    Window,
    parse_week,
    scheduled_at,
    week_of,
    window_for,
    working_day_end,
)
from desk.services.problem_reports import CouncilProblem, WeekProblem, council_problems, week_problems

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CouncilDigest:
    council_id: str
    council_name: str
    week: str
    timezone: str  # the council calendar's: every local time shown is in it
    channel: str | None
    window: Window
    at_risk_until: datetime
    opened: tuple[TicketLine, ...]
    resolved: tuple[TicketLine, ...]
    still_open: tuple[TicketLine, ...]
    waiting_on_council: tuple[TicketLine, ...]
    at_risk: tuple[AtRisk, ...]
    breaches: tuple[Breach, ...]
    oldest_open: OldestOpen | None
    respond: Compliance
    resolve: Compliance
    days: tuple[DayCount, ...]
    problems: tuple[CouncilProblem, ...] = ()  # problems its own tickets were linked to this week

    @property
    def quiet(self) -> bool:
        """Nothing opened, resolved, breached or left open: the week to say "No requests this week"."""
        return not (self.opened or self.resolved or self.still_open or self.breaches)


@dataclass(frozen=True)
class PriorityFigures:
    """One row of the managers' table: a council and priority (or "all" of either), with its refs."""

    council_id: str
    council_name: str
    priority: str
    opened: tuple[str, ...]
    resolved: tuple[str, ...]
    respond: Compliance
    resolve: Compliance

    @property
    def active(self) -> bool:
        return bool(self.opened or self.resolved or self.respond.total or self.resolve.total)


@dataclass(frozen=True)
class ManagersBreach:
    council_id: str
    timezone: str
    breach: Breach


@dataclass(frozen=True)
class ManagersDigest:
    week: str
    timezone: str
    window: Window
    rows: tuple[PriorityFigures, ...]  # council × priority, only those with something to show
    councils: tuple[PriorityFigures, ...]  # one per council (priority "all"), for the chart
    total: PriorityFigures  # every council, every priority
    breaches: tuple[ManagersBreach, ...]
    recipients: tuple[str, ...]  # the service managers (DMs); delivery is the dispatcher's
    problems: tuple[WeekProblem, ...] = ()  # problems open during the week, with tickets and councils


# -- computing -------------------------------------------------------------------------------------


def current_playbook(session: Session, council: CouncilRow) -> Playbook:
    current = queries.find_current_playbook_key(session, council.playbook_id)
    if current is None:
        raise NotFound(f"playbook {council.playbook_id!r} is not synced (run `desk playbooks sync`)")
    return sla_state.playbook_of(session, *current)


def schedule_of(session: Session, council: CouncilRow, playbook: Playbook | None = None) -> Schedule:
    """The council's digest schedule; `playbook`, its current one, when the caller has it already."""
    playbook = playbook or current_playbook(session, council)
    schedule = Schedule.of_council(council, playbook.calendar.timezone)
    if schedule is None:
        raise InvalidInput(f"council {council.id!r} has no digest schedule (`digest:` in councils.yaml)")
    return schedule


def council_digest(session: Session, *, council_id: str, week: str) -> CouncilDigest:
    """The council's digest for ISO week `week`, as of the instant it is scheduled."""
    week = parse_week(week)
    council = queries.get_council(session, council_id)
    playbook = current_playbook(session, council)
    schedule = schedule_of(session, council, playbook)
    window = window_for(week, schedule)
    tickets = stats.tickets_at_end(session, council, window)
    until = working_day_end(business_calendar(playbook.calendar.with_division(council.division)),
                            window.ends_at)
    return CouncilDigest(
        council_id=council.id, council_name=council.name, week=week,
        timezone=schedule.timezone, channel=schedule.channel, window=window, at_risk_until=until,
        opened=stats.opened(tickets, window), resolved=stats.resolved(tickets, window),
        still_open=stats.still_open(tickets), waiting_on_council=stats.waiting_on_council(tickets),
        at_risk=stats.at_risk(tickets, window, until), breaches=stats.breaches(tickets, window),
        oldest_open=stats.oldest_open(tickets, window),
        respond=stats.respond_compliance(tickets, window), resolve=stats.resolve_compliance(tickets, window),
        days=stats.days(tickets, window),
        problems=council_problems(session, council.id, window.starts_at, window.ends_at))


def managers_digest(session: Session, *, week: str) -> ManagersDigest:
    """Every council's week side by side, by priority (as of the window's end), with every breach."""
    week = parse_week(week)
    window = window_for(week, MANAGERS_SCHEDULE)
    rows: list[PriorityFigures] = []
    per_council: list[PriorityFigures] = []
    everything: list[TicketAtEnd] = []
    found: list[ManagersBreach] = []
    for council in queries.list_councils(session):
        playbook = current_playbook(session, council)
        tickets = stats.tickets_at_end(session, council, window)
        whole = _figures(council, "all", tickets, window)
        if not council.active and not whole.active:
            continue
        per_council.append(whole)
        everything += tickets
        seen = {t.line.priority for t in tickets}
        for priority in [*playbook.priorities, *sorted(seen - set(playbook.priorities))]:
            row = _figures(council, priority, [t for t in tickets if t.line.priority == priority], window)
            if row.active:
                rows.append(row)
        timezone = playbook.calendar.timezone
        found += [ManagersBreach(council.id, timezone, b) for b in stats.breaches(tickets, window)]
    support = queries.find_support_config(session)
    return ManagersDigest(
        week=week, timezone=MANAGERS_SCHEDULE.timezone, window=window, rows=tuple(rows),
        councils=tuple(per_council), total=_figures(None, "all", everything, window),
        breaches=tuple(sorted(found, key=lambda b: (b.breach.breached_at, b.council_id, b.breach.ticket.number))),
        recipients=tuple(support.definition.get("service_managers", ())) if support else (),
        problems=week_problems(session, window.starts_at, window.ends_at))


def _figures(council: CouncilRow | None, priority: str, tickets: Sequence[TicketAtEnd],
             window: Window) -> PriorityFigures:
    return PriorityFigures(
        council_id=council.id if council else "all", council_name=council.name if council else "All councils",
        priority=priority, opened=tuple(line.ref for line in stats.opened(tickets, window)),
        resolved=tuple(line.ref for line in stats.resolved(tickets, window)),
        respond=stats.respond_compliance(tickets, window), resolve=stats.resolve_compliance(tickets, window))


# -- queuing ---------------------------------------------------------------------------------------


def digest_key(council_id: str, week: str) -> str:
    return f"digest:{council_id}:{week}"


def managers_key(week: str) -> str:
    return f"managers_digest:{week}"


def latest(session: Session, key: str) -> OutboxRow | None:
    """The newest row queued under `key` or its forced resends: what `desk digest send` reports."""
    return session.exec(select(OutboxRow).where(_under(key)).order_by(col(OutboxRow.id).desc())).first()


def enqueue(session: Session, *, council_id: str, week: str, at: datetime,
            force: bool = False) -> OutboxRow | None:
    """Queue the council's digest for `week` to its channel; None if that week is already queued.

    The row becomes available at the scheduled instant (or `at`, if later): a week queued early is
    delivered when it is complete, never half-way through.
    """
    council = queries.get_council(session, council_id)
    schedule = schedule_of(session, council)
    week = parse_week(week)
    return _insert_once(session, digest_key(council.id, week), force=force, row=OutboxRow(
        idempotency_key="", kind="digest", council_id=council.id, target=schedule.channel,
        payload={"council": council.id, "week": week}, created_at=at,
        available_at=max(at, scheduled_at(week, schedule))))


def enqueue_managers(session: Session, *, week: str, at: datetime, force: bool = False) -> OutboxRow | None:
    """Queue the managers' digest for `week` (the dispatcher DMs the service managers)."""
    week = parse_week(week)
    return _insert_once(session, managers_key(week), force=force, row=OutboxRow(
        idempotency_key="", kind="managers_digest", target=None, payload={"week": week}, created_at=at,
        available_at=max(at, scheduled_at(week, MANAGERS_SCHEDULE))))


def enqueue_due(session: Session, *, now: datetime) -> list[OutboxRow]:
    """Queue every digest whose instant in the current week (its own timezone) has come, once.

    Only the current week: a worker that was down catches up this week's digest, never a backlog of
    stale ones. Calling it again queues nothing. One council's failure (say, its playbook is missing)
    is logged and the others still go out.
    """
    queued: list[OutboxRow] = []
    for council in queries.list_councils(session):
        if not council.active or not council.digest:
            continue
        try:
            schedule = schedule_of(session, council)
            week = week_of(now, schedule.timezone)
            if scheduled_at(week, schedule) <= now:
                row = enqueue(session, council_id=council.id, week=week, at=now)
                queued += [row] if row is not None else []
        except DeskError as err:
            log.warning("digest for %s not queued: %s", council.id, err)
    week = week_of(now, MANAGERS_SCHEDULE.timezone)
    support = queries.find_support_config(session)
    if scheduled_at(week, MANAGERS_SCHEDULE) <= now and support and support.definition.get("service_managers"):
        row = enqueue_managers(session, week=week, at=now)
        queued += [row] if row is not None else []
    return queued


def _under(key: str) -> ColumnElement[bool]:
    """Rows queued under `key` itself or as one of its forced resends."""
    return or_(OutboxRow.idempotency_key == key,
               col(OutboxRow.idempotency_key).startswith(f"{key}:force:", autoescape=True))


def _insert_once(session: Session, key: str, *, force: bool, row: OutboxRow) -> OutboxRow | None:
    """Check, then insert in a savepoint: a second worker's insert of the same key is "already queued".

    A first send uses `key` even with `force`; a forced resend is `key:force:{n}`, n counting every row
    for the week so far (the first resend is `:force:2`, the second copy).
    """
    existing = session.exec(select(func.count()).select_from(OutboxRow).where(_under(key))).one()
    if existing and not force:
        return None
    row.idempotency_key = f"{key}:force:{existing + 1}" if existing else key
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        log.info("%s was queued by another worker meanwhile", row.idempotency_key)
        return None
    return row
