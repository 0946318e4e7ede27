"""Between the SLA engine and its rows: build a ticket's policy, load its `TicketSla`, store it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import CouncilRow, SlaClockRow, TicketEventRow, TicketRow
from desk.domain.playbook import ClockKind, Metric, Playbook
from desk.domain.playbook_schema import parse_playbook
from desk.domain.sla import MetricRun, SlaPolicy, TicketSla
from desk.domain.sla_replay import ReplayEvent

_RUN_FIELDS = ("started_at", "consumed_before", "running_since", "paused_at", "paused_seconds",
               "stopped_at", "breached_at", "due_at")


# Playbook versions never change once written, so each is parsed once per process. The content hash is part
# of the key because ids are only unique within one database (tests, and a restored backup, reuse them).
_PLAYBOOKS: dict[tuple[int, str], Playbook] = {}
_POLICIES: dict[tuple[int, str, str | None], SlaPolicy] = {}
_HASHES = "desk.playbook_version_hashes"  # session.info: version id -> content hash, read once per session


def _version(session: Session, version_id: int) -> tuple[tuple[int, str], Playbook]:
    known = session.info.setdefault(_HASHES, {})
    if version_id not in known:  # a version's row never changes: one read per unit of work is enough
        known[version_id] = queries.get_playbook_version_hash(session, version_id)
    key = (version_id, known[version_id])
    if key not in _PLAYBOOKS:
        row = queries.get_playbook_version(session, version_id)
        _PLAYBOOKS[key] = parse_playbook(f"playbook version {version_id}", row.source)
    return key, _PLAYBOOKS[key]


def playbook_for(session: Session, version_id: int) -> Playbook:
    return _version(session, version_id)[1]


def playbook_of(session: Session, version_id: int, content_hash: str) -> Playbook:
    """The playbook of a version whose hash the caller has read: nothing more is read once it is parsed."""
    session.info.setdefault(_HASHES, {})[version_id] = content_hash
    return _version(session, version_id)[1]


def policy_for(session: Session, ticket: TicketRow, council: CouncilRow | None = None) -> SlaPolicy:
    """The ticket's targets and steps (its playbook version) on its council's calendar (its division)."""
    council = council or queries.get_council(session, ticket.council_id)
    return policy_of(session, ticket.playbook_version_id, council.division)


def policy_of(session: Session, version_id: int, division: str) -> SlaPolicy:
    """A playbook version's targets and steps on a division's calendar, built once per process."""
    key, playbook = _version(session, version_id)
    policy_key = (*key, division)
    if policy_key not in _POLICIES:
        _POLICIES[policy_key] = SlaPolicy.for_playbook(playbook, playbook.calendar.with_division(division))
    return _POLICIES[policy_key]


def load(session: Session, ticket: TicketRow, policy: SlaPolicy) -> TicketSla:
    assert ticket.id is not None
    rows = queries.list_sla_clocks(session, ticket.id)
    session.info.setdefault("sla_rows", {})[ticket.id] = {(row.metric, row.cycle): row for row in rows}
    return of_rows(ticket, policy, rows)


def of_rows(ticket: TicketRow, policy: SlaPolicy, rows: Sequence[SlaClockRow]) -> TicketSla:
    """A ticket's SLA from clock rows already read (`clocks_of`, for a batch of tickets)."""
    return TicketSla(policy, ticket.priority, ticket.status, [to_run(row) for row in rows])


def clocks_of(session: Session, ticket_ids: Sequence[int], *, plain: bool = False) -> dict[int, list[SlaClockRow]]:
    """The clock rows of several tickets in one query, each ticket's in `list_sla_clocks`'s order; `plain`:
    read only, as Core rows (see `queries.list_sla_clocks_of`), which `of_rows` takes as it takes objects."""
    found: dict[int, list[SlaClockRow]] = {ticket_id: [] for ticket_id in ticket_ids}
    if ticket_ids:
        for row in queries.list_sla_clocks_of(session, ticket_ids, plain=plain):
            found[row.ticket_id].append(row)
    return found


def save(session: Session, ticket: TicketRow, sla: TicketSla,
         existing: dict[tuple[str, int], SlaClockRow] | None = None) -> None:
    """Write every run back, with the instant its next step fires (the sweeper's index). `existing`: the
    ticket's clock rows by (metric, cycle), when the caller read them (the sweeper reads a batch's at once)."""
    assert ticket.id is not None
    if existing is None:
        existing = session.info.get("sla_rows", {}).get(ticket.id)  # the rows `load` read in this unit of work
    if existing is None:
        existing = {(row.metric, row.cycle): row for row in queries.list_sla_clocks(session, ticket.id)}
    for run in sla.runs:
        row = existing.get((str(run.metric), run.cycle)) or SlaClockRow(
            ticket_id=ticket.id, metric=str(run.metric), cycle=run.cycle, started_at=run.started_at,
            target_seconds=run.target, clock=str(run.clock))
        values = {name: getattr(run, name) for name in _RUN_FIELDS}
        values.update(target_seconds=run.target, clock=str(run.clock), next_step_at=sla.next_step_at_for(run),
                      fired={str(index): repeat for index, repeat in run.fired.items()})
        for name, value in values.items():
            if row.id is None or getattr(row, name) != value:  # a sweep moves two or three of them
                setattr(row, name, value)
        session.add(row)


def new_clock_values(ticket_id: int, sla: TicketSla) -> list[dict]:
    """A new ticket's runs as `sla_clock` rows' column values, for one INSERT (`new_tickets.write_opened`): no
    rows exist to update, and nothing reads them back as objects in this unit of work (`load` reads them
    from the database)."""
    return [_clock_values(ticket_id, sla, run) for run in sla.runs]


def _clock_values(ticket_id: int, sla: TicketSla, run: MetricRun) -> dict:
    return {"ticket_id": ticket_id, "metric": str(run.metric), "cycle": run.cycle, "target_seconds": run.target,
            "clock": str(run.clock), **{name: getattr(run, name) for name in _RUN_FIELDS},
            "fired": {str(index): repeat for index, repeat in run.fired.items()},
            "next_step_at": sla.next_step_at_for(run)}


def to_run(row: SlaClockRow) -> MetricRun:
    run = MetricRun(Metric(row.metric), row.cycle, row.started_at, row.target_seconds, ClockKind(row.clock))
    for name in _RUN_FIELDS:
        setattr(run, name, getattr(row, name))
    run.fired = {int(index): repeat for index, repeat in row.fired.items()}
    return run


def replay_events(events: Sequence[TicketEventRow]) -> list[ReplayEvent]:
    """A ticket's stored history in the replay vocabulary (events that do not touch the SLA drop out)."""
    return [found for event in events if (found := replay_event(event.type, event.at, event.data)) is not None]


def replay_event(kind: str, at: datetime, data: Mapping[str, Any]) -> ReplayEvent | None:
    """One stored event (its type, instant and data) in the replay vocabulary; None if it does not touch the
    SLA. Of `data`, only "priority" (of "opened") and "to" (of "status" and "priority") are read."""
    match kind:
        case "opened":
            return ReplayEvent(at, "opened", priority=data["priority"])
        case "replied":
            return ReplayEvent(at, "replied")
        case "status":
            return ReplayEvent(at, "status", status=data["to"])
        case "priority":
            return ReplayEvent(at, "priority", priority=data["to"])
        case "resolved":
            return ReplayEvent(at, "resolved")
        case "reopened":
            return ReplayEvent(at, "reopened")
        case "closed":
            return ReplayEvent(at, "status", status="closed")
    return None
