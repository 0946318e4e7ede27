"""`support.rota` in councils.yaml -> `Rota`, every problem named by its key; and the rota as stored JSON.

The rota may name only people the registry already knows as support (listed by id in `support.engineers`,
`support.duty_lead` or `support.service_managers`): a rota is not where someone becomes an engineer, and
a typo in an id would otherwise silently send the duty lead's escalations to nobody.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from desk.domain.playbook import DIVISIONS
from desk.domain.rota import Assignment, Leave, Rota, RotaPattern, RotaWeek, RoutingRule, Shift
from desk.domain.yaml_document import MISSING, Checker, key_path, shown

ROTA_OPTIONAL = ("division", "weeks", "pattern", "leave", "routing")
SLACK_PERSON = re.compile(r"[UW][A-Z0-9]{6,}")
RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _People:
    """Checks that an id is a person the registry knows as support."""

    def __init__(self, check: Checker, known: Collection[str] | None) -> None:
        self.check, self.known = check, known

    def person(self, value: Any, key: str) -> str | None:
        person = self.check.matching(value, key, SLACK_PERSON, "a Slack user id (U… or W…)")
        if person is not None and self.known is not None and person not in self.known:
            self.check.problem(key, f"{person} is not in support.engineers, support.duty_lead or "
                                    "support.service_managers: list them there first (by their user id)")
            return None
        return person


def parse_rota(
    check: Checker, value: Any, key: str, *, known_people: Collection[str] | None,
    playbook_ids: Sequence[str], council_ids: Collection[str] | None,
) -> Rota | None:
    """The rota, or None with its problems recorded. `known_people`/`council_ids` None: not checkable
    (their own section is broken and already reported)."""
    body = check.fields(value, key, ("calendar",), ROTA_OPTIONAL)
    if body is None:
        return None
    people = _People(check, known_people)
    calendar = check.text(body["calendar"], f"{key}.calendar")
    if calendar is not None and calendar not in playbook_ids:
        check.problem(f"{key}.calendar", f'no playbook "{calendar}" whose calendar the support team could '
                                         f"keep (known: {', '.join(sorted(playbook_ids)) or 'none'})")
    division = check.choice(body["division"], f"{key}.division", DIVISIONS) if "division" in body else None
    weeks = _weeks(check, body.get("weeks", []), f"{key}.weeks", people)
    pattern = _pattern(check, body["pattern"], f"{key}.pattern", people) if "pattern" in body else None
    if "weeks" not in body and "pattern" not in body:
        check.problem(key, "names no weeks and no pattern: give `weeks`, a `pattern`, or both")
    leave = _leave(check, body.get("leave", []), f"{key}.leave", people)
    routing = _routing(check, body.get("routing", []), f"{key}.routing", council_ids)
    if calendar is None or weeks is None or leave is None or routing is None:
        return None
    if "pattern" in body and pattern is None:
        return None
    return Rota(calendar=calendar, division=division, weeks=weeks, pattern=pattern, leave=leave, routing=routing)


def _shift(check: Checker, fields: dict, key: str, people: _People) -> Shift | None:
    lead = people.person(fields["duty_lead"], f"{key}.duty_lead")
    items = check.sequence(fields["engineers"], f"{key}.engineers", non_empty=True)
    if items is None:
        return None
    engineers = [people.person(item, key_path(f"{key}.engineers", i)) for i, item in enumerate(items)]
    for index, person in enumerate(engineers):
        if person is not None and person in engineers[:index]:
            check.problem(key_path(f"{key}.engineers", index), f"{person} is listed twice")
    if lead is None or None in engineers:
        return None
    return Shift(duty_lead=lead, engineers=tuple(dict.fromkeys(p for p in engineers if p is not None)))


def _weeks(check: Checker, value: Any, key: str, people: _People) -> tuple[RotaWeek, ...] | None:
    items = check.sequence(value, key)
    if items is None:
        return None
    weeks: list[tuple[int, RotaWeek]] = []
    valid = True
    for index, item in enumerate(items):
        entry = key_path(key, index)
        fields = check.fields(item, entry, ("week", "duty_lead", "engineers"), ("through",))
        if fields is None:
            valid = False
            continue
        first = _monday(check, fields["week"], f"{entry}.week")
        last = _monday(check, fields["through"], f"{entry}.through") if "through" in fields else first
        if first is not None and last is not None and last < first:
            check.problem(f"{entry}.through", f"{last} is before the week it ends ({first})")
            last = None
        shift = _shift(check, fields, entry, people)
        if first is None or last is None or shift is None:
            valid = False
            continue
        for other, earlier in weeks:
            if first <= earlier.last and earlier.first <= last:
                check.problem(entry, f"overlaps {key}[{other}] (week of {max(first, earlier.first)} is in both)")
                valid = False
        weeks.append((index, RotaWeek(first=first, last=last, shift=shift)))
    return tuple(week for _, week in weeks) if valid else None


def _pattern(check: Checker, value: Any, key: str, people: _People) -> RotaPattern | None:
    fields = check.fields(value, key, (), ("start", "cycle"))
    if fields is None:
        return None
    if "start" not in fields:
        check.problem(f"{key}.start", "missing: a pattern needs the Monday its first week begins")
    if "cycle" not in fields:
        check.problem(f"{key}.cycle", "missing: a pattern needs a cycle of weeks (duty_lead, engineers)")
    start = _monday(check, fields.get("start", MISSING), f"{key}.start")
    items = check.sequence(fields.get("cycle", MISSING), f"{key}.cycle", non_empty=True)
    shifts = []
    for index, item in enumerate(items or []):
        entry = key_path(f"{key}.cycle", index)
        shift_fields = check.fields(item, entry, ("duty_lead", "engineers"))
        shifts.append(None if shift_fields is None else _shift(check, shift_fields, entry, people))
    if start is None or not items or None in shifts:
        return None
    return RotaPattern(start=start, cycle=tuple(s for s in shifts if s is not None))


def _leave(check: Checker, value: Any, key: str, people: _People) -> tuple[Leave, ...] | None:
    items = check.sequence(value, key)
    if items is None:
        return None
    found: list[Leave | None] = []
    for index, item in enumerate(items):
        entry = key_path(key, index)
        fields = check.fields(item, entry, ("person", "from", "to"))
        if fields is None:
            found.append(None)
            continue
        person = people.person(fields["person"], f"{entry}.person")
        first = _date(check, fields["from"], f"{entry}.from")
        last = _date(check, fields["to"], f"{entry}.to")
        if first is not None and last is not None and last < first:
            check.problem(f"{entry}.to", f"{last} is before {first} (`from`): leave runs from one date to a later one")
            last = None
        found.append(None if person is None or first is None or last is None else Leave(person, first, last))
    return None if None in found else tuple(leave for leave in found if leave is not None)


def _routing(
    check: Checker, value: Any, key: str, council_ids: Collection[str] | None
) -> tuple[RoutingRule, ...] | None:
    items = check.sequence(value, key)
    if items is None:
        return None
    rules: list[RoutingRule | None] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        entry = key_path(key, index)
        fields = check.fields(item, entry, ("id",), ("councils", "categories", "assign"))
        if fields is None:
            rules.append(None)
            continue
        rule_id = check.matching(fields["id"], f"{entry}.id", RULE_ID, "a rule id (a-z, 0-9 and -)")
        if rule_id is not None and rule_id in seen:
            check.problem(f"{entry}.id", f'"{rule_id}" names an earlier rule too: each rule needs its own id')
            rule_id = None
        seen.add(rule_id or "")
        councils = _texts(check, fields.get("councils", []), f"{entry}.councils")
        for i, council in enumerate(councils or ()):
            if council_ids is not None and council not in council_ids:
                check.problem(key_path(f"{entry}.councils", i), f'no council "{council}" in this registry')
                councils = None
        categories = _texts(check, fields.get("categories", []), f"{entry}.categories")
        if not fields.get("councils") and not fields.get("categories"):
            check.problem(entry, "matches every ticket: name its `councils`, its `categories`, or both")
            councils = None
        assign = check.choice(fields.get("assign", Assignment.ROUND_ROBIN.value), f"{entry}.assign",
                              [a.value for a in Assignment])
        if rule_id is None or councils is None or categories is None or assign is None:
            rules.append(None)
            continue
        rules.append(RoutingRule(rule_id, councils, categories, Assignment(assign)))
    return None if None in rules else tuple(rule for rule in rules if rule is not None)


def _texts(check: Checker, value: Any, key: str) -> tuple[str, ...] | None:
    items = check.sequence(value, key)
    if items is None:
        return None
    texts = [check.text(item, key_path(key, index)) for index, item in enumerate(items)]
    return None if None in texts else tuple(t for t in texts if t is not None)


def _date(check: Checker, value: Any, key: str) -> date | None:
    if value is MISSING:
        return None
    found = None
    if isinstance(value, date) and not isinstance(value, datetime):
        found = value
    elif isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            found = date.fromisoformat(value)
        except ValueError:
            found = None
    if found is None:
        check.problem(key, f"{shown(value)} is not a date (use YYYY-MM-DD)")
    return found


def _monday(check: Checker, value: Any, key: str) -> date | None:
    day = _date(check, value, key)
    if day is not None and day.weekday() != 0:
        check.problem(key, f"{day} is a {DAY_NAMES[day.weekday()]}: rota weeks begin on a Monday")
        return None
    return day


def unknown_categories(rota: Rota, known: Collection[str]) -> list[tuple[str, str]]:
    """Routing rules naming a category no playbook sorts tickets into (a typo that would never match)."""
    return [(f"support.rota.routing[{index}].categories[{position}]",
             f'no playbook sorts tickets into "{category}" (known: {", ".join(sorted(known)) or "none"})')
            for index, rule in enumerate(rota.routing) for position, category in enumerate(rule.categories)
            if category not in known]


def rota_to_json(rota: Rota) -> dict:
    """The rota as stored in the support configuration row (and shown by `desk rota show --json`)."""
    return {
        "calendar": rota.calendar, "division": rota.division,
        "weeks": [{"week": w.first.isoformat(), "through": w.last.isoformat(), **_shift_json(w.shift)}
                  for w in rota.weeks],
        "pattern": None if rota.pattern is None else {
            "start": rota.pattern.start.isoformat(), "cycle": [_shift_json(s) for s in rota.pattern.cycle]},
        "leave": [{"person": x.person, "from": x.first.isoformat(), "to": x.last.isoformat()} for x in rota.leave],
        "routing": [{"id": r.id, "councils": list(r.councils), "categories": list(r.categories),
                     "assign": r.assign.value} for r in rota.routing],
    }


def rota_from_json(data: dict) -> Rota:
    pattern = data.get("pattern")
    return Rota(
        calendar=data["calendar"], division=data.get("division"),
        weeks=tuple(RotaWeek(date.fromisoformat(w["week"]), date.fromisoformat(w["through"]), _shift_of(w))
                    for w in data.get("weeks", [])),
        pattern=None if pattern is None else RotaPattern(
            date.fromisoformat(pattern["start"]), tuple(_shift_of(s) for s in pattern["cycle"])),
        leave=tuple(Leave(x["person"], date.fromisoformat(x["from"]), date.fromisoformat(x["to"]))
                    for x in data.get("leave", [])),
        routing=tuple(RoutingRule(r["id"], tuple(r["councils"]), tuple(r["categories"]), Assignment(r["assign"]))
                      for r in data.get("routing", [])),
    )


def _shift_json(shift: Shift) -> dict:
    return {"duty_lead": shift.duty_lead, "engineers": list(shift.engineers)}


def _shift_of(data: dict) -> Shift:
    return Shift(duty_lead=data["duty_lead"], engineers=tuple(data["engineers"]))
