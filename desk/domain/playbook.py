"""The playbook model: what a validated playbook directory means, as frozen values.

Parsing and validation of the YAML documents live in `playbook_schema.py`; this module only says what a
loaded playbook *is*, so the calendar, the SLA engine and triage can depend on it without depending on
YAML. Durations are whole seconds; times of day are seconds since local midnight (24:00 = 86400).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desk.domain.rota import Rota

from desk.domain.saved_replies import SavedReply

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIVISIONS = ("england-and-wales", "scotland", "northern-ireland")
LEVELS = ("high", "medium", "low")  # impact and urgency
NOTIFY_TARGETS = ("assignee", "triage", "duty_lead", "service_manager")


class ClockKind(StrEnum):
    BUSINESS = "business"
    ALWAYS = "24x7"


class Metric(StrEnum):
    RESPOND = "respond"
    RESOLVE = "resolve"


@dataclass(frozen=True, order=True)
class Window:
    """A working window on one local day, [start, end) in seconds since local midnight."""

    start: int
    end: int


@dataclass(frozen=True)
class CalendarSpec:
    timezone: str
    division: str
    hours: tuple[tuple[Window, ...], ...]  # seven entries, Monday first: sorted, non-overlapping windows
    closures: frozenset[date] = frozenset()

    def with_division(self, division: str | None) -> CalendarSpec:
        return self if not division or division == self.division else replace(self, division=division)


@dataclass(frozen=True)
class PriorityTarget:
    code: str  # "P1"
    name: str
    respond_within: int  # seconds on `clock`
    resolve_within: int
    clock: ClockKind = ClockKind.BUSINESS

    def target(self, metric: Metric) -> int:
        return self.respond_within if metric is Metric.RESPOND else self.resolve_within


@dataclass(frozen=True)
class EscalationStep:
    index: int  # position in the playbook's list: the step's identity within a metric cycle
    metric: Metric
    at_percent: int  # 100 = breach
    notify: tuple[str, ...]
    repeat_every: int | None = None  # seconds on the metric's clock; only for steps at 100 % or more

    @property
    def is_breach(self) -> bool:
        return self.at_percent >= 100


@dataclass(frozen=True)
class TriageRule:
    name: str
    match: re.Pattern[str]
    category: str | None = None
    impact: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class TriageDefaults:
    category: str = "general"
    impact: str = "medium"
    urgency: str = "medium"


@dataclass(frozen=True)
class Playbook:
    id: str
    name: str
    calendar: CalendarSpec
    priorities: Mapping[str, PriorityTarget]  # in the file's order, most severe first
    matrix: Mapping[str, Mapping[str, str]]  # impact -> urgency -> priority code
    rules: tuple[TriageRule, ...] = ()
    pause_on: frozenset[str] = frozenset({"waiting_on_council"})
    escalations: tuple[EscalationStep, ...] = ()
    defaults: TriageDefaults = field(default_factory=TriageDefaults)
    close_after_days: int = 5  # working days a resolved ticket waits before it closes itself


@dataclass(frozen=True)
class DigestSchedule:
    channel: str
    day: int  # weekday, 0 = Monday
    time: int  # seconds since local midnight


@dataclass(frozen=True)
class RetentionPolicy:
    """How long people's words on a closed ticket are kept before retention redacts them."""

    redact_after_days: int


@dataclass(frozen=True)
class Council:
    id: str
    name: str
    ref_prefix: str
    playbook: str
    division: str | None = None
    slack_teams: tuple[str, ...] = ()
    slack_channels: tuple[str, ...] = ()
    digest: DigestSchedule | None = None
    retention: RetentionPolicy | None = None


@dataclass(frozen=True)
class SupportTeam:
    team: str
    triage_channel: str
    engineers: tuple[str, ...] = ()
    duty_lead: str | None = None
    service_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registry:
    councils: tuple[Council, ...]
    support: SupportTeam
    rota: Rota | None = None  # support.rota: the duty rota and routing (desk.domain.rota)


@dataclass(frozen=True)
class PlaybookSet:
    """A whole validated directory: every playbook, the registry, and each file's source text."""

    playbooks: Mapping[str, Playbook]
    registry: Registry
    sources: Mapping[str, str]  # playbook id -> the YAML text it was loaded from
    replies: Mapping[str, SavedReply] = field(default_factory=dict)  # replies.yaml, when there is one

    def council(self, council_id: str) -> Council | None:
        return next((c for c in self.registry.councils if c.id == council_id), None)


def council_calendar(playbook: Playbook, council: Council) -> CalendarSpec:
    """The calendar a council's tickets are timed on: the playbook's, with the council's division."""
    return playbook.calendar.with_division(council.division)
