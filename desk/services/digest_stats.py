"""The figures of a digest, computed from tickets as they stood at the end of the week.

Every ticket that can count in a window (opened by its end, with an SLA clock that was still running at its
start or started since) is replayed from its event history up to the end instant through the SLA engine,
the one implementation that `desk tickets show` and `desk sla replay` use (`state_as_of`: the replay's
state, without working out the escalation steps that no figure reads). The stored clock rows only pick
the candidates: they hold the state as of *now*, and a digest previewed or delivered later, after tickets
moved on (resolved, re-prioritised, back from waiting), must still say what was true at its instant.

Each figure is a function of those replayed tickets, small enough to be read as its definition; each
carries the refs it counted, so every number can be traced to tickets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from desk.db.tables import CouncilRow, SlaClockRow, TicketEventRow, TicketRow
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.sla import MetricRun, SlaPolicy, TicketSla
from desk.domain.sla_replay import ReplayEvent, state_as_of
from desk.services import sla_state
from desk.services.digest_weeks import Window

# Event types that move the SLA engine or the status (the replay vocabulary, plus "closed").
_HISTORY = ("opened", "replied", "status", "priority", "resolved", "reopened", "closed")
_OPEN = frozenset(str(status) for status in OPEN_STATUSES)
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class TicketLine:
    """A ticket as a digest lists it; `priority` and `status` as of the window's end."""

    ref: str
    number: int
    title: str
    priority: str
    status: str
    opened_at: datetime


@dataclass(frozen=True)
class TicketAtEnd:
    """One ticket with its SLA state replayed up to the window's end."""

    line: TicketLine
    sla: TicketSla

    @property
    def is_open(self) -> bool:
        return self.sla.status in _OPEN


@dataclass(frozen=True)
class AtRisk:
    ticket: TicketLine
    metric: str
    due_at: datetime


@dataclass(frozen=True)
class Breach:
    ticket: TicketLine
    metric: str
    cycle: int
    breached_at: datetime


@dataclass(frozen=True)
class Outcome:
    """One SLA obligation settled in the window: a respond clock or one resolve cycle."""

    ref: str
    cycle: int
    met: bool


@dataclass(frozen=True)
class Compliance:
    outcomes: tuple[Outcome, ...] = ()

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def met(self) -> int:
        return sum(outcome.met for outcome in self.outcomes)

    @property
    def missed(self) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if not outcome.met)

    @property
    def percent(self) -> int | None:
        """Whole per cent, rounded half up; None when nothing was due (not 100 %, not 0 %)."""
        return None if not self.total else (200 * self.met + self.total) // (2 * self.total)


@dataclass(frozen=True)
class DayCount:
    """The 24 real hours from `starts_at`: what was opened and resolved in them."""

    starts_at: datetime
    opened: int
    resolved: int


@dataclass(frozen=True)
class OldestOpen:
    ticket: TicketLine
    age: timedelta  # real time from opening to the window's end


def _candidate() -> ColumnElement[bool]:
    """A ticket of the council that can count in a window: opened by its end, with an SLA clock still running
    at its start or started since. Parameters: council_id, starts_at, ends_at."""
    live = sa_select(SlaClockRow.id).where(
        SlaClockRow.ticket_id == TicketRow.id,
        or_(col(SlaClockRow.stopped_at).is_(None), col(SlaClockRow.stopped_at) > bindparam("starts_at")))
    return and_(TicketRow.council_id == bindparam("council_id"), col(TicketRow.opened_at) <= bindparam("ends_at"),
                live.exists())  # per ticket, by its clocks' index (`IN (every live clock)` read the whole table)


# Built once: a digest runs both for every council, and building them cost as much as running them.
_TICKETS = (sa_select(TicketRow.id, TicketRow.ref, TicketRow.number, TicketRow.title, TicketRow.opened_at,
                      TicketRow.playbook_version_id)
            .where(_candidate()).order_by(TicketRow.number))
_HISTORIES = (sa_select(TicketEventRow.ticket_id, TicketEventRow.type, TicketEventRow.at,
                        TicketEventRow.data["priority"].as_string().label("priority"),
                        TicketEventRow.data["to"].as_string().label("to"))  # what the replay reads of `data`
              .join(TicketRow, TicketRow.id == TicketEventRow.ticket_id)
              .where(_candidate(), TicketEventRow.council_id == bindparam("council_id"),
                     col(TicketEventRow.at) <= bindparam("ends_at"), col(TicketEventRow.type).in_(_HISTORY))
              .order_by(TicketEventRow.seq))


def tickets_at_end(session: Session, council: CouncilRow, window: Window) -> list[TicketAtEnd]:
    """The council's tickets that can count in `window`, replayed as of its end, in ref order.

    Only the columns the figures use are read (plain rows, not ORM objects: a digest reads tens of tickets
    and hundreds of events, and building an object per row was a third of its cost)."""
    bounds = {"council_id": council.id, "starts_at": window.starts_at, "ends_at": window.ends_at}
    connection = session.connection()  # plain rows: no ORM result machinery
    tickets = connection.execute(_TICKETS, bounds).all()
    events = connection.execute(_HISTORIES, bounds).all()
    history: dict[int, list[ReplayEvent]] = defaultdict(list)
    for ticket_id, kind, at, priority, to in events:  # rows unpacked: reading them by name costs more
        if (found := sla_state.replay_event(kind, at, {"priority": priority, "to": to})) is not None:
            history[ticket_id].append(found)
    policies: dict[int, SlaPolicy] = {}
    out = []
    for ticket_id, ref, number, title, opened_at, version_id in tickets:
        if version_id not in policies:
            policies[version_id] = sla_state.policy_of(session, version_id, council.division)
        sla = state_as_of(policies[version_id], history[ticket_id], window.ends_at)
        out.append(TicketAtEnd(TicketLine(ref, number, title, sla.priority, sla.status, opened_at), sla))
    return out


def opened(tickets: Iterable[TicketAtEnd], window: Window) -> tuple[TicketLine, ...]:
    return tuple(t.line for t in tickets if window.holds(t.line.opened_at))


def resolved(tickets: Iterable[TicketAtEnd], window: Window) -> tuple[TicketLine, ...]:
    """Tickets with a resolve cycle that stopped in the window (once each, however many cycles)."""
    return tuple(t.line for t in tickets if any(window.holds(r.stopped_at) for r in t.sla.resolve_cycles))


def still_open(tickets: Iterable[TicketAtEnd]) -> tuple[TicketLine, ...]:
    return tuple(t.line for t in tickets if t.is_open)


def waiting_on_council(tickets: Iterable[TicketAtEnd]) -> tuple[TicketLine, ...]:
    return tuple(t.line for t in tickets if t.sla.status == "waiting_on_council")


def at_risk(tickets: Iterable[TicketAtEnd], window: Window, until: datetime) -> tuple[AtRisk, ...]:
    """Open tickets with a target running at the end, not yet breached, falling due by `until`.

    A paused resolve clock is not running, so a ticket waiting on the council is at risk only by its
    respond target. Already-breached targets are left to "breached"; one line per ticket, its soonest due.
    """
    found = []
    for t in tickets:
        if not t.is_open:
            continue
        due = [(run.due_at, str(run.metric)) for run in (t.sla.respond, t.sla.current_resolve)
               if run.running and run.due_at is not None and run.breached_as_of(window.ends_at) is None
               and run.due_at <= until]
        if due:
            due_at, metric = min(due)
            found.append(AtRisk(t.line, metric, due_at))
    return tuple(sorted(found, key=lambda risk: (risk.due_at, risk.ticket.number)))


def breaches(tickets: Iterable[TicketAtEnd], window: Window) -> tuple[Breach, ...]:
    """Every respond clock or resolve cycle whose breach instant falls in the window, oldest first."""
    found = [Breach(t.line, str(run.metric), run.cycle, at)
             for t in tickets for run in t.sla.runs
             if window.holds(at := run.breached_as_of(window.ends_at))]
    return tuple(sorted(found, key=lambda b: (b.breached_at, b.ticket.number, b.metric, b.cycle)))


def oldest_open(tickets: Iterable[TicketAtEnd], window: Window) -> OldestOpen | None:
    candidates = [t.line for t in tickets if t.is_open]
    if not candidates:
        return None
    oldest = min(candidates, key=lambda line: (line.opened_at, line.number))
    return OldestOpen(oldest, window.ends_at - oldest.opened_at)


def respond_compliance(tickets: Iterable[TicketAtEnd], window: Window) -> Compliance:
    """Respond clocks stopped in the window (met if stopped by their due instant), plus every respond
    clock still running at the end whose target was missed in the window: silence must not look like
    compliance. Only missed *in the window*, or one unanswered ticket would be a miss every week forever.
    """
    outcomes = []
    for t in tickets:
        run = t.sla.respond
        if window.holds(run.stopped_at):
            outcomes.append(Outcome(t.line.ref, run.cycle, _met(run, window)))
        elif run.stopped_at is None and window.holds(run.breached_as_of(window.ends_at)):
            outcomes.append(Outcome(t.line.ref, run.cycle, False))
    return Compliance(tuple(outcomes))


def resolve_compliance(tickets: Iterable[TicketAtEnd], window: Window) -> Compliance:
    """Resolve cycles stopped in the window, each counted (a reopened ticket can count twice)."""
    return Compliance(tuple(Outcome(t.line.ref, run.cycle, _met(run, window))
                            for t in tickets for run in t.sla.resolve_cycles if window.holds(run.stopped_at)))


def days(tickets: Sequence[TicketAtEnd], window: Window) -> tuple[DayCount, ...]:
    """Seven consecutive 24-hour buckets from the window's start (each open at its start, like the window):
    in each, the tickets `opened` in it and those `resolved` in it (once each, however many cycles)."""
    opened_in, resolved_in = [0] * 7, [0] * 7
    for t in tickets:
        if (index := _day_of(t.line.opened_at, window)) is not None:
            opened_in[index] += 1
        for index in {_day_of(run.stopped_at, window) for run in t.sla.resolve_cycles} - {None}:
            resolved_in[index] += 1
    return tuple(DayCount(window.starts_at + index * DAY, opened_in[index], resolved_in[index])
                 for index in range(7))


def _day_of(at: datetime | None, window: Window) -> int | None:
    """The bucket `at` falls in: bucket i holds (start + i days, start + i+1 days]."""
    if at is None or not window.holds(at):
        return None
    return -(-(at - window.starts_at) // DAY) - 1


def _met(run: MetricRun, window: Window) -> bool:
    return run.breached_as_of(window.ends_at) is None
