"""`desk sla replay`: fold a ticket history through the SLA engine and report it (DESIGN.md shapes).

Live tickets are shown the same way: their stored events become `ReplayEvent`s, so what `desk tickets show`
says about a ticket is what the engine computes from its history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from desk.domain.sla import Coalesced, MetricRun, SlaPolicy, TicketSla
from desk.errors import InvalidInput

EVENT_TYPES = ("opened", "replied", "status", "priority", "resolved", "reopened")
STATUSES = ("new", "in_progress", "waiting_on_council", "resolved", "closed")


@dataclass(frozen=True)
class ReplayEvent:
    at: datetime
    type: str
    priority: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Replay:
    sla: TicketSla
    notifications: tuple[Coalesced, ...]
    as_of: datetime


def parse_instant(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: expected an ISO 8601 instant with a UTC offset, got {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{where}: {value!r} is not an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise InvalidInput(f"{where}: {value!r} has no UTC offset (add Z or +01:00)")
    return at.astimezone(UTC).replace(microsecond=0)


def parse_history(doc: object, where: str = "history") -> tuple[str, list[ReplayEvent]]:
    """Validate one `{"council": ID, "events": [...]}` document; return the council id and its events."""
    if not isinstance(doc, Mapping):
        raise InvalidInput(f"{where}: expected an object with council and events")
    council = doc.get("council")
    if not isinstance(council, str) or not council:
        raise InvalidInput(f"{where}.council: required (a council id from councils.yaml)")
    raw = doc.get("events")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(f"{where}.events: required, a non-empty list")
    events = [_parse_event(item, f"{where}.events[{i}]") for i, item in enumerate(raw)]
    events.sort(key=lambda e: e.at)  # stable: same-instant events keep their order
    if events[0].type != "opened":
        raise InvalidInput(f"{where}.events: the earliest event must be 'opened', not {events[0].type!r}")
    if any(e.type == "opened" for e in events[1:]):
        raise InvalidInput(f"{where}.events: a ticket is opened once")
    return council, events


def _parse_event(item: object, where: str) -> ReplayEvent:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where}: expected an object with at and type")
    kind = item.get("type")
    if kind not in EVENT_TYPES:
        raise InvalidInput(f"{where}.type: {kind!r} is not one of {', '.join(EVENT_TYPES)}")
    at = parse_instant(item.get("at"), f"{where}.at")
    priority = item.get("priority")
    status = item.get("status")
    if kind in ("opened", "priority") and not isinstance(priority, str):
        raise InvalidInput(f"{where}.priority: required for {kind!r} events")
    if kind == "status" and status not in STATUSES:
        raise InvalidInput(f"{where}.status: {status!r} is not one of {', '.join(STATUSES)}")
    return ReplayEvent(at, kind, priority, status)


def replay(policy: SlaPolicy, events: Sequence[ReplayEvent], as_of: datetime | None = None) -> Replay:
    """Run the events in order; steps fire at their instants between events, as a live worker would."""
    as_of = as_of or events[-1].at
    sla: TicketSla | None = None
    sent: list[Coalesced] = []
    for event in events:
        if event.at > as_of:
            break
        if sla is not None:
            sent += _fire_until(sla, event.at, inclusive=False)
        sla = _apply(policy, sla, event)
    if sla is None:
        raise InvalidInput(f"as-of {as_of.isoformat()} is before the ticket was opened")
    sent += _fire_until(sla, as_of, inclusive=True)
    return Replay(sla, tuple(sent), as_of)


def state_as_of(policy: SlaPolicy, events: Sequence[ReplayEvent], as_of: datetime) -> TicketSla:
    """The ticket's SLA state at `as_of`, as `replay(...).sla` has it, without working out its steps.

    What a digest needs (status, priority, due, stopped and breach instants) and a tenth of the work. Firing
    a step changes a run only by recording a breach that has already happened (`TicketSla.take_due`), and
    everything that could make that record matter (a stop, a pause, a priority change) records the same
    breach itself first; running runs get theirs recorded as of `as_of` here. So the state is the replay's
    in every field but `fired` (the steps taken), which this never fills in: tests/domain/
    test_sla_properties.py checks that over random histories.
    """
    sla: TicketSla | None = None
    for event in events:
        if event.at > as_of:
            break
        sla = _apply(policy, sla, event)
    if sla is None:
        raise InvalidInput(f"as-of {as_of.isoformat()} is before the ticket was opened")
    for run in sla.runs:
        if run.running:
            run.breached_at = run.breached_as_of(as_of)
    return sla


def _apply(policy: SlaPolicy, sla: TicketSla | None, event: ReplayEvent) -> TicketSla:
    if sla is None:
        assert event.priority is not None
        try:
            return TicketSla.open(policy, event.priority, event.at)
        except ValueError as err:
            raise InvalidInput(f"opened: {err}") from None
    try:
        match event.type:
            case "replied":
                sla.reply(event.at)
            case "status":
                assert event.status is not None
                sla.set_status(event.status, event.at)
            case "priority":
                assert event.priority is not None
                sla.change_priority(event.priority, event.at)
            case "resolved":
                sla.resolve(event.at)
            case "reopened":
                sla.reopen(event.at)
    except ValueError as err:
        raise InvalidInput(f"{event.type} at {event.at.isoformat()}: {err}") from None
    return sla


def _fire_until(sla: TicketSla, until: datetime, *, inclusive: bool) -> list[Coalesced]:
    """Fire instant by instant, so that only steps sharing an instant are coalesced."""
    sent = []
    while (at := sla.next_step_at()) is not None and (at <= until if inclusive else at < until):
        coalesced = sla.take_due(at)
        assert coalesced is not None
        sent.append(coalesced)
    return sent


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _paused_seconds(sla: TicketSla, run: MetricRun, as_of: datetime) -> int:
    running_pause = 0
    if run.paused_at is not None:
        running_pause = sla.policy.clocks[run.clock].between(run.paused_at, as_of)
    return run.paused_seconds + running_pause


def report(result: Replay) -> dict:
    """The contract's per-ticket replay document."""
    sla, as_of = result.sla, result.as_of
    respond = sla.respond
    respond_breached_at = respond.breached_as_of(as_of)
    return {
        "priority": sla.priority,
        "respond": {
            "due_at": _iso(respond.due_at),
            "met_at": _iso(respond.stopped_at),
            "breached": respond_breached_at is not None,
            "breached_at": _iso(respond_breached_at),
        },
        "resolve": [
            {
                "cycle": run.cycle,
                "started_at": _iso(run.started_at),
                "due_at": _iso(run.due_at),
                "stopped_at": _iso(run.stopped_at),
                "paused": run.paused,
                "paused_seconds": _paused_seconds(sla, run, as_of),
                "breached": run.breached_as_of(as_of) is not None,
                "breached_at": _iso(run.breached_as_of(as_of)),
            }
            for run in sla.resolve_cycles
        ],
        "notifications": [c.sent.as_dict() for c in result.notifications],
    }
