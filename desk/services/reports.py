"""SLA reports: per council × priority and overall, for whole UK days, traceable to every ticket.

One model behind every format (`desk.rendering.reports` turns it into Markdown, CSV, JSON and HTML).
Like the weekly digests, every ticket is *replayed* from its event history through the SLA engine, as of
one instant: the end of the period, or now for a period still running. The stored clock rows only pick the
candidates; they hold the state as of now, and a report re-run next year must say what it said today.

Each replayed ticket becomes one `TicketFacts` row; the figures are computed from those rows alone
(`report_figures.py`, with the definitions), so the CSV of those rows is enough to check every number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import CouncilRow, SlaClockRow, TicketEventRow, TicketRatingRow, TicketRow
from desk.domain.sla import MetricRun, SlaPolicy
from desk.domain.sla_replay import EVENT_TYPES, Replay, replay, report
from desk.errors import InvalidInput
from desk.services import sla_state
from desk.services.digests import current_playbook
from desk.services.problem_reports import problems_of_tickets
from desk.services.report_figures import (
    REPORT_TIMEZONE,
    Figures,
    Period,
    TicketFacts,
    Week,
    figures,
    weeks,
)

# Event types that move the SLA engine or the status: the replay vocabulary, plus "closed".
HISTORY = (*EVENT_TYPES, "closed")


@dataclass(frozen=True)
class ReportBreach:
    """A respond target or resolve cycle missed in the period (its breach instant falls in it)."""

    council_id: str
    ref: str
    priority: str
    metric: str
    cycle: int
    breached_at: datetime


@dataclass(frozen=True)
class CouncilReport:
    council_id: str
    council_name: str
    figures: Figures  # the council's tickets, every priority
    priorities: tuple[Figures, ...]  # one per priority with tickets in the report, playbook order


@dataclass(frozen=True)
class SlaReport:
    period: Period
    as_of: datetime  # every ticket is replayed to this instant: min(now, the period's last second)
    council_id: str | None  # None: every council
    councils: tuple[CouncilReport, ...]
    overall: Figures  # every council in the report (the one council's figures, for a council's report)
    weeks: tuple[Week, ...]
    breaches: tuple[ReportBreach, ...]  # oldest first
    tickets: tuple[TicketFacts, ...]  # by council, then ticket number: the CSV's rows
    timezone: str = REPORT_TIMEZONE

    @property
    def title(self) -> str:
        return self.councils[0].council_name if self.council_id and self.councils else "All councils"

    @property
    def complete(self) -> bool:
        """False while the period is still running (figures as of now, and may still change)."""
        return self.as_of == self.period.last_instant


Progress = Callable[[int, int], None]  # (tickets replayed, tickets to replay so far): a command draws a bar


def build_report(session: Session, *, start: date, end: date, council_id: str | None,
                 now: datetime, progress: Progress | None = None) -> SlaReport:
    """The SLA report for UK days `start`..`end` (inclusive); with `council_id`, that council's only.
    `progress` hears how many tickets are replayed of those found so far (councils are read one by one).

    Raises InvalidInput for a period that ends before it starts or has not started, NotFound for an
    unknown council.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime {now!r}: services take aware instants")
    period = Period.of(start, end)
    if now < period.starts_at:
        raise InvalidInput(f"the period starts on {start.isoformat()}: it has not started yet")
    as_of = min(now.astimezone(UTC).replace(microsecond=0), period.last_instant)
    if council_id is not None:
        chosen: Sequence[CouncilRow] = [queries.get_council(session, council_id)]
    else:
        chosen = queries.list_councils(session)
    sections: list[CouncilReport] = []
    every: list[TicketFacts] = []
    found: list[ReportBreach] = []
    counted = _Counted(progress)
    for council in chosen:
        replayed = _replayed(session, council, period, as_of, counted)
        linked = problems_of_tickets(session, [t.id for t, _, _ in replayed if t.id is not None], as_of)
        facts = [replace(facts_of(ticket, result, rating), problem=linked.get(ticket.id or 0))
                 for ticket, result, rating in replayed]
        if council_id is None and not council.active and not facts:
            continue
        sections.append(_council_report(session, council, facts, period, as_of))
        every += facts
        found += [ReportBreach(council.id, ticket.ref, result.sla.priority, str(run.metric), run.cycle, at)
                  for ticket, result, _ in replayed for run in result.sla.runs
                  if period.holds(at := run.breached_as_of(as_of))]
    overall = sections[0].figures if council_id is not None else figures(every, period, as_of)
    return SlaReport(
        period=period, as_of=as_of, council_id=council_id, councils=tuple(sections), overall=overall,
        weeks=weeks(every, period, as_of),
        breaches=tuple(sorted(found, key=lambda b: (b.breached_at, b.council_id, b.ref, b.metric, b.cycle))),
        tickets=tuple(every))


def _council_report(session: Session, council: CouncilRow, facts: list[TicketFacts], period: Period,
                    as_of: datetime) -> CouncilReport:
    known = list(current_playbook(session, council).priorities)
    seen = {f.priority for f in facts}
    rows = tuple(
        figures([f for f in facts if f.priority == priority], period, as_of, council_id=council.id,
                council_name=council.name, priority=priority)
        for priority in [*(p for p in known if p in seen), *sorted(seen - set(known))])
    whole = figures(facts, period, as_of, council_id=council.id, council_name=council.name)
    return CouncilReport(council.id, council.name, whole, rows)


class _Counted:
    """Tickets replayed across the councils, told to `progress` every so often."""

    EVERY = 100

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.done, self.total = progress, 0, 0

    def found(self, count: int) -> None:
        self.total += count
        self.tell()

    def replayed(self) -> None:
        self.done += 1
        if self.done % self.EVERY == 0 or self.done == self.total:
            self.tell()

    def tell(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _replayed(session: Session, council: CouncilRow, period: Period, as_of: datetime,
              counted: _Counted) -> list[tuple[TicketRow, Replay, TicketRatingRow | None]]:
    """The council's tickets that can count in the period, replayed as of `as_of`, in ref order.

    Candidates: opened by `as_of` and open at some moment of the period (a clock row still running, or
    stopped at or after its start; a reopen adds a row), or rated in it. Each with its latest rating.
    """
    live = select(SlaClockRow.ticket_id).where(
        or_(col(SlaClockRow.stopped_at).is_(None), col(SlaClockRow.stopped_at) >= period.starts_at))
    rated = select(TicketRatingRow.ticket_id).where(
        col(TicketRatingRow.rated_at) >= period.starts_at, col(TicketRatingRow.rated_at) <= as_of)
    candidates = select(TicketRow.id).where(
        TicketRow.council_id == council.id, col(TicketRow.opened_at) <= as_of,
        or_(col(TicketRow.id).in_(live), col(TicketRow.id).in_(rated)))
    tickets = session.exec(
        select(TicketRow).where(col(TicketRow.id).in_(candidates)).order_by(TicketRow.number)).all()
    events = session.exec(
        select(TicketEventRow)
        .where(TicketEventRow.council_id == council.id, col(TicketEventRow.ticket_id).in_(candidates),
               col(TicketEventRow.at) <= as_of, col(TicketEventRow.type).in_(HISTORY))
        .order_by(TicketEventRow.seq)).all()
    history: dict[int, list[TicketEventRow]] = defaultdict(list)
    for event in events:
        history[event.ticket_id].append(event)
    ratings = session.exec(
        select(TicketRatingRow)
        .where(col(TicketRatingRow.ticket_id).in_(candidates), col(TicketRatingRow.rated_at) <= as_of)
        .order_by(TicketRatingRow.rated_at, TicketRatingRow.id)).all()
    latest = {rating.ticket_id: rating for rating in ratings}
    policies: dict[int, SlaPolicy] = {}
    out = []
    counted.found(len(tickets))
    for ticket in tickets:
        assert ticket.id is not None
        if ticket.playbook_version_id not in policies:
            policies[ticket.playbook_version_id] = sla_state.policy_for(session, ticket, council)
        policy = policies[ticket.playbook_version_id]
        result = replay(policy, sla_state.replay_events(history[ticket.id]), as_of)
        out.append((ticket, result, latest.get(ticket.id)))
        counted.replayed()
    return out


def facts_of(ticket: TicketRow, result: Replay, rating: TicketRatingRow | None) -> TicketFacts:
    """One ticket's row, read off its replay (`report()` is the contract shape `desk sla replay` prints)."""
    sla, as_of = result.sla, result.as_of
    clocks = sla.policy.clocks
    respond_met, respond_decided_at = _outcome(sla.respond, as_of)
    cycles = sla.resolve_cycles
    outcomes = [_outcome(run, as_of) for run in cycles]
    first_met, first_decided_at = outcomes[0]
    misses = [at for met, at in outcomes if met is False and at is not None]
    stopped = [run for run in cycles if run.stopped_at is not None]
    last = max(stopped, key=lambda run: run.stopped_at or as_of, default=None)
    resolved_at = last.stopped_at if last is not None else None
    if misses:
        all_met, all_decided_at = False, min(misses)
    elif all(met for met, _ in outcomes):
        all_met, all_decided_at = True, resolved_at
    else:
        all_met, all_decided_at = None, None
    first_response_at = sla.respond.stopped_at
    return TicketFacts(
        ref=ticket.ref, council=ticket.council_id, priority=sla.priority, status=sla.status,
        opened_at=ticket.opened_at, first_response_at=first_response_at, respond_due_at=sla.respond.due_at,
        respond_met=respond_met, respond_decided_at=respond_decided_at, resolved_at=resolved_at,
        resolve_cycles=len(cycles), first_cycle_met=first_met, first_cycle_decided_at=first_decided_at,
        all_cycles_met=all_met, all_cycles_decided_at=all_decided_at,
        paused_seconds=sum(cycle["paused_seconds"] for cycle in report(result)["resolve"]),
        reopened=len(cycles) > 1, rating=rating.score if rating else None,
        rated_at=rating.rated_at if rating else None,
        respond_business_seconds=(clocks[sla.respond.clock].between(ticket.opened_at, first_response_at)
                                  if first_response_at is not None else None),
        resolve_business_seconds=(clocks[last.clock].between(ticket.opened_at, resolved_at)
                                  if last is not None and resolved_at is not None else None))


def _outcome(run: MetricRun, as_of: datetime) -> tuple[bool | None, datetime | None]:
    """(met, decided at): missed at the breach instant, met when stopped in time, else undecided."""
    breached_at = run.breached_as_of(as_of)
    if breached_at is not None:
        return False, breached_at
    if run.stopped_at is not None:
        return True, run.stopped_at
    return None, None
