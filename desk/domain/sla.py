"""The SLA engine: one ticket's respond and resolve clocks, their cycles, and their escalation steps.

One implementation serves live tickets (the services load a `TicketSla` from its rows, apply one change,
and store it back) and `desk sla replay` (which folds a whole history through the same methods).

Vocabulary:
- a *run* is one metric in one cycle (respond has one cycle; resolve starts a new one on each reopen);
- *consumed* is time spent on the run's clock; the run is *due* when consumed reaches the target;
- a *step* is an `escalations` entry firing for a run; repeats fire every `repeat_every` after it.

The rules are those of DESIGN.md, "SLA semantics"; the less obvious choices, all deliberate:
- a run is met when stopped at or before its due instant; an event at the due instant is applied before
  the steps that fall due at that instant (a reply at 10:30:00 meets a 10:30:00 target, silently);
- a priority change keeps consumed time and re-targets; if nothing remains the run is breached at the
  change instant, unless it was breached already (a breach is never recorded twice, never undone);
- resolving also stops a respond clock still running: the resolution note is a public reply;
- steps due at one instant (or, for the live sweeper, all steps overdue at once) are coalesced: only the
  most severe is sent, the others are recorded as done. Severity: percentage, then repeat, then resolve
  over respond.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from desk.domain.calendar import WorkClock, clock_for
from desk.domain.playbook import CalendarSpec, ClockKind, EscalationStep, Metric, Playbook, PriorityTarget

STOPPING_STATUSES = frozenset({"resolved", "closed"})


def _threshold(target: int, percent: int) -> int:
    """Seconds of consumed time at which `percent` of `target` is reached, rounded up to the second."""
    return -(-target * percent // 100)


@dataclass(frozen=True)
class SlaPolicy:
    """What a ticket is timed against: its playbook version's targets and steps, on its council's calendar."""

    priorities: Mapping[str, PriorityTarget]
    escalations: tuple[EscalationStep, ...]
    pause_on: frozenset[str]
    clocks: Mapping[ClockKind, WorkClock]

    @classmethod
    def for_playbook(cls, playbook: Playbook, calendar: CalendarSpec) -> SlaPolicy:
        clocks = {kind: clock_for(kind, calendar) for kind in ClockKind}
        return cls(playbook.priorities, playbook.escalations, playbook.pause_on, clocks)

    def target(self, priority: str) -> PriorityTarget:
        try:
            return self.priorities[priority]
        except KeyError:
            known = ", ".join(self.priorities)
            raise ValueError(f"unknown priority {priority!r} (known: {known})") from None


@dataclass(frozen=True)
class Firing:
    """One escalation step (or one repeat of it) reaching its instant."""

    at: datetime
    metric: Metric
    cycle: int
    step: EscalationStep
    repeat: int = 0  # 0 = the step itself, n = its n-th repeat

    @property
    def kind(self) -> str:
        return "breach" if self.step.is_breach else "warn"

    @property
    def severity(self) -> tuple[int, int, int]:
        return (self.step.at_percent, self.repeat, self.metric is Metric.RESOLVE)

    def as_dict(self) -> dict:
        out = {"at": self.at.isoformat(), "metric": str(self.metric), "cycle": self.cycle,
               "kind": self.kind, "threshold": self.step.at_percent}
        if self.repeat:
            out["repeat"] = self.repeat
        return out


@dataclass(frozen=True)
class Coalesced:
    """What one sweep of one ticket sends: the most severe firing; the rest are recorded as done."""

    sent: Firing
    superseded: tuple[Firing, ...] = ()


@dataclass
class MetricRun:
    """One metric in one cycle. Mirrors a row of the SLA state table, field for field."""

    metric: Metric
    cycle: int
    started_at: datetime
    target: int  # seconds on `clock`
    clock: ClockKind
    consumed_before: int = 0  # consumed up to `running_since` (or in total, once paused or stopped)
    running_since: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: int = 0  # on the run's clock, for finished pauses
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    due_at: datetime | None = None  # while running; kept as it was once stopped; None while paused
    fired: dict[int, int] = field(default_factory=dict)  # step index -> last repeat fired (0 = step)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def consumed(self, clocks: Mapping[ClockKind, WorkClock], at: datetime) -> int:
        if self.running_since is None:
            return self.consumed_before
        return self.consumed_before + clocks[self.clock].between(self.running_since, at)

    def breached_as_of(self, at: datetime) -> datetime | None:
        """The breach instant if the run is breached by `at` (inclusive), without changing the run."""
        if self.breached_at is None and self.running and self.due_at is not None and self.due_at <= at:
            return self.due_at
        return self.breached_at


class TicketSla:
    """The SLA state of one ticket, changed only through the methods that mirror ticket events."""

    def __init__(self, policy: SlaPolicy, priority: str, status: str, runs: list[MetricRun]):
        self.policy = policy
        self.priority = priority
        self.status = status
        self.runs = runs

    # -- events ------------------------------------------------------------------------------------

    @classmethod
    def open(cls, policy: SlaPolicy, priority: str, at: datetime, status: str = "new") -> TicketSla:
        target = policy.target(priority)
        runs = [
            MetricRun(Metric.RESPOND, 1, at, target.respond_within, target.clock, running_since=at),
            MetricRun(Metric.RESOLVE, 1, at, target.resolve_within, target.clock, running_since=at),
        ]
        sla = cls(policy, priority, "new", runs)
        for run in runs:
            sla._refresh_due(run)
        if status != "new":
            sla.set_status(status, at)
        return sla

    def reply(self, at: datetime) -> None:
        """A public reply by support: the respond clock stops (once; later replies change nothing)."""
        self._stop(self.respond, at)

    def set_status(self, status: str, at: datetime) -> None:
        if status in STOPPING_STATUSES:
            if self.status not in STOPPING_STATUSES:
                self.resolve(at)
            self.status = status
            return
        if self.status in STOPPING_STATUSES:
            self.reopen(at)
        was_paused, self.status = self.status in self.policy.pause_on, status
        now_paused = status in self.policy.pause_on
        run = self.current_resolve
        if now_paused and not was_paused:
            self._pause(run, at)
        elif was_paused and not now_paused:
            self._resume(run, at)

    def change_priority(self, priority: str, at: datetime) -> dict[str, tuple[int, int]]:
        """Re-target every unfinished run, keeping consumed time. Returns metric -> (old, new) target."""
        new = self.policy.target(priority)
        changes: dict[str, tuple[int, int]] = {}
        for run in self.runs:
            if run.stopped:
                continue
            self._settle(run, at)
            if run.running_since is not None:
                run.consumed_before = run.consumed(self.policy.clocks, at)
                run.running_since = at
            changes[str(run.metric)] = (run.target, new.target(run.metric))
            run.target, run.clock = new.target(run.metric), new.clock
            if run.consumed_before >= run.target and run.breached_at is None:
                run.breached_at = at
            self._refresh_due(run)
        self.priority = priority
        return changes

    def resolve(self, at: datetime) -> None:
        self._stop(self.respond, at)
        self._stop(self.current_resolve, at)
        self.status = "resolved"

    def reopen(self, at: datetime) -> None:
        """A new resolve cycle with the full target; respond never restarts."""
        target = self.policy.target(self.priority)
        run = MetricRun(Metric.RESOLVE, self.current_resolve.cycle + 1, at, target.resolve_within,
                        target.clock, running_since=at)
        self.runs.append(run)
        self.status = "in_progress"
        self._refresh_due(run)

    def recompute_deadlines(self) -> None:
        """Due instants of the running runs again, on the policy's clocks as they are now.

        What a calendar change (a council's division corrected, new bank-holiday data) needs: the work
        consumed before each run's current stretch is history and stays; the current stretch is counted
        again from `running_since`. Paused and stopped runs have no due instant to move."""
        for run in self.runs:
            if run.running:
                self._refresh_due(run)

    # -- steps -------------------------------------------------------------------------------------

    def next_step_at(self) -> datetime | None:
        """The earliest instant at which a step (or repeat) will fire, if the ticket is left alone."""
        return min((at for run in self.runs if (at := self.next_step_at_for(run))), default=None)

    def next_step_at_for(self, run: MetricRun) -> datetime | None:
        """The run's next firing: what the sweeper's index holds for its row."""
        if not run.running:
            return None
        need = min(self._next_needs(run), default=None)
        # a step's instant only grows with the consumed time it needs: the least need fires first
        return self._instant(run, need) if need is not None else None

    def planned_steps(self, run: MetricRun) -> list[tuple[EscalationStep, datetime]]:
        """When each step of a running run would fire if nothing changed (repeats excluded)."""
        if not run.running:
            return []
        steps = sorted(self._steps(run), key=lambda s: s.at_percent)
        return [(s, self._instant(run, _threshold(run.target, s.at_percent))) for s in steps]

    def take_due(self, until: datetime) -> Coalesced | None:
        """Mark every step due by `until` as done and return the one to send (the most severe)."""
        firings = [f for run in self.runs if run.running for f in self._due_firings(run, until)]
        if not firings:
            return None
        for f in firings:
            run = self.run(f.metric, f.cycle)
            run.fired[f.step.index] = max(run.fired.get(f.step.index, -1), f.repeat)
            self._settle(run, f.at)
        most = max(firings, key=lambda f: (f.severity, f.at))
        return Coalesced(most, tuple(f for f in firings if f is not most))

    # -- reading -----------------------------------------------------------------------------------

    @property
    def respond(self) -> MetricRun:
        return self.runs[0]

    @property
    def current_resolve(self) -> MetricRun:
        return self.runs[-1]

    @property
    def resolve_cycles(self) -> list[MetricRun]:
        return [r for r in self.runs if r.metric is Metric.RESOLVE]

    def run(self, metric: Metric, cycle: int) -> MetricRun:
        return next(r for r in self.runs if r.metric is metric and r.cycle == cycle)

    # -- internals ---------------------------------------------------------------------------------

    def _clock(self, run: MetricRun) -> WorkClock:
        return self.policy.clocks[run.clock]

    def _refresh_due(self, run: MetricRun) -> None:
        if run.running_since is None:
            run.due_at = None
        elif run.consumed_before >= run.target:
            run.due_at = run.running_since
        else:
            run.due_at = self._clock(run).add(run.running_since, run.target - run.consumed_before)

    def _settle(self, run: MetricRun, at: datetime) -> None:
        """Record a breach that has happened by `at` (inclusive) on a running run."""
        run.breached_at = run.breached_as_of(at)

    def _stop(self, run: MetricRun, at: datetime) -> None:
        if run.stopped:
            return
        if run.paused_at is not None:
            run.paused_seconds += self._clock(run).between(run.paused_at, at)
            run.paused_at = None
        elif run.running_since is not None:
            if run.breached_at is None and run.due_at is not None and run.due_at < at:
                run.breached_at = run.due_at  # met means stopped at or before the due instant
            run.consumed_before = run.consumed(self.policy.clocks, at)
            run.running_since = None
        run.stopped_at = at

    def _pause(self, run: MetricRun, at: datetime) -> None:
        if run.running_since is None:
            return
        self._settle(run, at)
        run.consumed_before = run.consumed(self.policy.clocks, at)
        run.running_since, run.paused_at, run.due_at = None, at, None

    def _resume(self, run: MetricRun, at: datetime) -> None:
        if run.paused_at is None:
            return
        run.paused_seconds += self._clock(run).between(run.paused_at, at)
        run.paused_at, run.running_since = None, at
        self._refresh_due(run)

    def _steps(self, run: MetricRun) -> Iterable[EscalationStep]:
        return (s for s in self.policy.escalations if s.metric is run.metric)

    def _instant(self, run: MetricRun, need: int) -> datetime:
        assert run.running_since is not None
        if need <= run.consumed_before:
            return run.running_since
        return self._clock(run).add(run.running_since, need - run.consumed_before)

    def _next_needs(self, run: MetricRun) -> Iterator[int]:
        """The consumed seconds at which each step's next firing (or repeat) is due."""
        for step in self._steps(run):
            repeat = run.fired.get(step.index, -1) + 1
            if repeat and not step.repeat_every:
                continue
            yield _threshold(run.target, step.at_percent) + repeat * (step.repeat_every or 0)

    def _due_firings(self, run: MetricRun, until: datetime) -> Iterator[Firing]:
        consumed = run.consumed(self.policy.clocks, until)
        for step in self._steps(run):
            base = _threshold(run.target, step.at_percent)
            if consumed < base:
                continue
            first = run.fired.get(step.index, -1) + 1
            last = (consumed - base) // step.repeat_every if step.repeat_every else 0
            for repeat in sorted({first, last}) if first <= last else ():
                need = base + repeat * (step.repeat_every or 0)
                yield Firing(self._instant(run, need), run.metric, run.cycle, step, repeat)
