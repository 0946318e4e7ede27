"""The support duty rota: who is duty lead, and which engineers are on duty, at an instant.

The rule (docs/playbooks.md, "Duty rota"): a rota week runs from its handover to the next week's. A week
is handed over at the start of its first working window in the support team's calendar: Monday at the
start of the working day, or, when Monday is a bank holiday or a closure, the start of the first working
day after it in that week. So on a Monday before opening, and all of Easter Monday, last week's people
are still on duty. A week with no working day at all is never handed over to: the week before it carries
on until the week after it begins.

A week's shift comes from the explicit `weeks` that name it, or else from the repeating `pattern` (a
cycle of weeks counted from its start). Leave is whole local days: someone on leave is not on duty that
day. A duty lead on leave hands the role for the day to the first of that week's engineers who is not on
leave (the deputy); when there is nobody, or no rota for the week, the caller falls back to the
registry's `support.duty_lead`. Pure: time and the calendar are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from desk.domain.calendar import BusinessCalendar, from_epoch, wall_to_epoch

WEEK = timedelta(days=7)
SEARCH_WEEKS = 60  # a calendar with no working window in this many weeks is broken, not quiet


class Assignment(StrEnum):
    """How a routing rule chooses an assignee (a closed set: one strategy so far)."""

    ROUND_ROBIN = "round-robin"  # the next engineer on duty (and not on leave) after the last one it chose


@dataclass(frozen=True)
class Shift:
    """One week's people: the duty lead, and the engineers on duty (who routing chooses among)."""

    duty_lead: str
    engineers: tuple[str, ...]


@dataclass(frozen=True)
class RotaWeek:
    """An explicit entry: the weeks beginning Monday `first` through Monday `last`, both included."""

    first: date
    last: date
    shift: Shift


@dataclass(frozen=True)
class RotaPattern:
    """A cycle of weeks repeating from Monday `start`: week n after it has shift n modulo the cycle."""

    start: date
    cycle: tuple[Shift, ...]


@dataclass(frozen=True)
class Leave:
    person: str
    first: date  # local dates, both included
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class RoutingRule:
    """Auto-assignment for new tickets: the first rule whose councils and categories both match (a list
    left out matches any) chooses the assignee; `id` names the rule in the ticket's `assigned` event."""

    id: str
    councils: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    assign: Assignment = Assignment.ROUND_ROBIN

    def matches(self, council_id: str, category: str | None) -> bool:
        return ((not self.councils or council_id in self.councils)
                and (not self.categories or category in self.categories))


@dataclass(frozen=True)
class Rota:
    calendar: str  # the playbook whose calendar (hours, timezone, closures) the support team keeps
    division: str | None = None  # its bank holidays; None: that playbook calendar's own division
    weeks: tuple[RotaWeek, ...] = ()
    pattern: RotaPattern | None = None
    leave: tuple[Leave, ...] = ()
    routing: tuple[RoutingRule, ...] = ()

    def shift_for(self, monday: date) -> tuple[Shift, str] | None:
        """The week's shift and where it came from (`weeks[2]`, `pattern.cycle[1]`), or None."""
        for index, week in enumerate(self.weeks):
            if week.first <= monday <= week.last:
                return week.shift, f"weeks[{index}]"
        if self.pattern is not None and monday >= self.pattern.start:
            position = (monday - self.pattern.start).days // 7 % len(self.pattern.cycle)
            return self.pattern.cycle[position], f"pattern.cycle[{position}]"
        return None

    def on_leave(self, person: str, day: date) -> bool:
        return any(leave.person == person and leave.covers(day) for leave in self.leave)

    def rule_for(self, council_id: str, category: str | None) -> RoutingRule | None:
        return next((rule for rule in self.routing if rule.matches(council_id, category)), None)


@dataclass(frozen=True)
class Duty:
    """Who is on duty at an instant, and until when."""

    week: date  # the Monday of the rota week in force
    began_at: datetime  # its handover
    next_handover_at: datetime
    source: str | None  # the rota entry in force; None: the rota names nobody for this week
    duty_lead: str | None  # None: nobody on the rota can lead now (fall back to support.duty_lead)
    rostered_lead: str | None  # the week's duty lead, on leave or not
    engineers: tuple[str, ...]  # on duty and not on leave, in the rota's order
    on_leave: tuple[str, ...]  # the week's people away today
    rostered: tuple[str, ...] = ()  # the week's engineers, on leave or not: the round robin's order


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def handover_at(calendar: BusinessCalendar, monday: date) -> datetime:
    """The start of the first working window at or after the local midnight starting `monday`."""
    return calendar.next_working(from_epoch(wall_to_epoch(calendar.zone, monday, 0)))


def duty_at(rota: Rota, calendar: BusinessCalendar, at: datetime) -> Duty:
    """Who is on duty at `at` (aware), on the support team's `calendar`."""
    week = monday_of(at.astimezone(calendar.zone).date())
    for _ in range(SEARCH_WEEKS):
        began = handover_at(calendar, week)
        if began <= at:
            break
        week -= WEEK
    else:
        raise ValueError(f"{calendar!r} has no working window in the {SEARCH_WEEKS} weeks before {at}")
    following = week + WEEK
    next_handover = handover_at(calendar, following)
    today = at.astimezone(calendar.zone).date()
    found = rota.shift_for(week)
    if found is None:
        return Duty(week, began, next_handover, None, None, None, (), ())
    shift, source = found
    people = dict.fromkeys((shift.duty_lead, *shift.engineers))
    away = tuple(person for person in people if rota.on_leave(person, today))
    engineers = tuple(person for person in shift.engineers if person not in away)
    lead = shift.duty_lead if shift.duty_lead not in away else next(iter(engineers), None)
    return Duty(week, began, next_handover, source, lead, shift.duty_lead, engineers, away, shift.engineers)


def next_in_turn(duty: Duty, last: str | None) -> str | None:
    """Round robin: the first engineer on duty after `last` in the week's order, skipping anyone on leave
    (so leave never moves the turn on); the week's first available when `last` is not in this week's rota."""
    if not duty.engineers:
        return None
    if last not in duty.rostered:
        return duty.engineers[0]
    start = duty.rostered.index(last) + 1
    order = duty.rostered[start:] + duty.rostered[:start]
    return next(person for person in order if person in duty.engineers)
