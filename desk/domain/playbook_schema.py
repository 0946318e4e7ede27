"""Playbook YAML -> the frozen model of `playbook.py`, reporting every problem of every file at once.

The YAML format is a contract (DESIGN.md, Playbooks) that operators edit by hand, so each mistake is named
as `file: key: problem` with a hint at the fix, and a directory with any problem loads nothing: a half-loaded
set of SLAs would time tickets against rules nobody wrote. The calendar part lives in `calendar_schema.py`,
the councils registry in `registry_schema.py`; strict YAML reading in `yaml_document.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from desk.domain.calendar_schema import parse_calendar
from desk.domain.playbook import (
    LEVELS,
    NOTIFY_TARGETS,
    ClockKind,
    EscalationStep,
    Metric,
    Playbook,
    PlaybookSet,
    PriorityTarget,
    Registry,
    TriageDefaults,
    TriageRule,
)
from desk.domain.registry_schema import parse_registry
from desk.domain.rota_schema import unknown_categories
from desk.domain.saved_replies import REPLIES_FILES, SavedReply, parse_replies
from desk.domain.yaml_document import MISSING, Checker, key_path, load_yaml, plain, shown
from desk.errors import PlaybookInvalid, Problem

REGISTRY_FILES = ("councils.yaml", "councils.yml")
REQUIRED = ("id", "name", "calendar", "priorities", "matrix")
OPTIONAL = ("rules", "pause_on", "escalations", "defaults", "close_after_days")
PAUSABLE = ("new", "in_progress", "waiting_on_council")
PLAYBOOK_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
PRIORITY_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
DURATION_HINT = "use e.g. 30m, 4h, 1h30m"


def parse_playbook(filename: str, text: str) -> Playbook:
    """One playbook document; raises PlaybookInvalid naming every problem in it."""
    check = Checker(filename)
    playbook = _playbook(check, load_yaml(check, text))
    if playbook is None:
        raise PlaybookInvalid(check.problems)
    return playbook


def parse_documents(documents: Mapping[str, str], *, source: str = "playbooks") -> PlaybookSet:
    """A whole directory, `{filename: text}`: the registry plus every playbook, or PlaybookInvalid with the
    problems of all files. `source` names the directory in problems that belong to no one file."""
    problems: list[Problem] = []
    playbooks: dict[str, Playbook] = {}
    sources: dict[str, str] = {}
    declared: dict[str, str] = {}  # playbook id -> the file that declared it first
    playbook_files = sorted(name for name in documents if name not in REGISTRY_FILES + REPLIES_FILES)
    for filename in playbook_files:
        check = Checker(filename)
        data = load_yaml(check, documents[filename])
        declared_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(declared_id, str) and declared_id in declared:
            check.problem("id", f'playbook "{declared_id}" is already declared by {declared[declared_id]}')
        elif isinstance(declared_id, str):
            declared[declared_id] = filename
        playbook = _playbook(check, data)
        problems += check.problems
        if playbook is not None and not check.problems:
            playbooks[playbook.id] = playbook
            sources[playbook.id] = documents[filename]
    if not playbook_files:
        problems.append(Problem(source, "", "no playbook: add one, e.g. standard.yaml"))
    registry = _registry(documents, sorted(declared), problems)
    if registry is not None and registry.rota is not None and not problems:
        registry_file = next(name for name in REGISTRY_FILES if name in documents)
        known = {rule.category for p in playbooks.values() for rule in p.rules if rule.category}
        known |= {p.defaults.category for p in playbooks.values()}
        problems += [Problem(registry_file, key, message) for key, message in unknown_categories(registry.rota, known)]
    replies = _replies(documents, problems)
    if problems or registry is None:
        raise PlaybookInvalid(problems)
    return PlaybookSet(playbooks=playbooks, registry=registry, sources=sources, replies=replies)


def _replies(documents: Mapping[str, str], problems: list[Problem]) -> dict[str, SavedReply]:
    """`replies.yaml`, optional: no file, no saved replies. Both spellings at once is ambiguous."""
    names = [name for name in REPLIES_FILES if name in documents]
    if len(names) > 1:
        problems.append(Problem(names[1], "", f"two saved-reply files: keep {names[0]} only"))
    if not names:
        return {}
    check = Checker(names[0])
    replies = parse_replies(check, load_yaml(check, documents[names[0]]))
    problems += check.problems
    return replies


def canonical_definition(text: str, *, filename: str = "<playbook>") -> dict[str, Any]:
    """The document as plain JSON-able data: what a playbook version is hashed on, so that editing a
    comment, quoting or indentation does not mint a new version."""
    check = Checker(filename)
    data = check.mapping(load_yaml(check, text), "")
    if data is None or check.problems:
        raise PlaybookInvalid(check.problems)
    return plain(data)


def _registry(
    documents: Mapping[str, str], playbook_ids: list[str], problems: list[Problem]
) -> Registry | None:
    names = [name for name in REGISTRY_FILES if name in documents]
    if not names:
        problems.append(Problem("councils.yaml", "", "missing: the directory needs the councils registry"))
        return None
    if len(names) > 1:
        problems.append(Problem(names[1], "", f"the registry is given twice: keep {names[0]} only"))
    check = Checker(names[0])
    registry = parse_registry(check, load_yaml(check, documents[names[0]]), playbook_ids)
    problems += check.problems
    return registry


def _playbook(check: Checker, data: Any) -> Playbook | None:
    body = check.fields(data, "", REQUIRED, OPTIONAL)
    if body is None:
        return None
    playbook_id = check.matching(body["id"], "id", PLAYBOOK_ID, "a playbook id (a-z, 0-9 and -)")
    name = check.text(body["name"], "name")
    calendar = parse_calendar(check, body["calendar"], "calendar")
    priorities, codes = _priorities(check, body["priorities"])
    matrix = _matrix(check, body["matrix"], codes)
    rules = _rules(check, body.get("rules", []))
    pause_on = _pause_on(check, body.get("pause_on", ["waiting_on_council"]))
    escalations = _escalations(check, body.get("escalations", []))
    defaults = _defaults(check, body.get("defaults", {}))
    close_after_days = check.integer(body.get("close_after_days", 5), "close_after_days", 1, 365)
    if check.problems or playbook_id is None or name is None or calendar is None or close_after_days is None:
        return None
    return Playbook(
        id=playbook_id, name=name, calendar=calendar, priorities=priorities, matrix=matrix, rules=rules,
        pause_on=pause_on, escalations=escalations, defaults=defaults, close_after_days=close_after_days,
    )


def parse_duration(check: Checker, value: Any, key: str) -> int | None:
    """`30m`, `4h`, `1h30m`, `90s` -> seconds; anything else (a bare number included) is a problem."""
    if value is MISSING:
        return None
    match = DURATION.fullmatch(value) if isinstance(value, str) and value else None
    if match is None:
        check.problem(key, f"{shown(value)} is not a duration ({DURATION_HINT})")
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        check.problem(key, f"{shown(value)} must be longer than zero")
        return None
    return total


def _priorities(check: Checker, value: Any) -> tuple[dict[str, PriorityTarget], list[str] | None]:
    """The targets, and the codes the file declares (None if unreadable, so the matrix stays quiet)."""
    body = check.mapping(value, "priorities")
    if body is None:
        return {}, None
    if not body:
        check.problem("priorities", "must declare at least one priority, e.g. P1")
    targets: dict[str, PriorityTarget] = {}
    for code, spec in body.items():
        key = key_path("priorities", str(code))
        if not isinstance(code, str) or not PRIORITY_CODE.fullmatch(code):
            check.problem(key, f"{shown(code)} is not a priority code (letters and digits, e.g. P1)")
            continue
        fields = check.fields(spec, key, ("name", "respond", "resolve"), ("clock",))
        if fields is None:
            continue
        name = check.text(fields["name"], f"{key}.name")
        respond = parse_duration(check, fields["respond"], f"{key}.respond")
        resolve = parse_duration(check, fields["resolve"], f"{key}.resolve")
        clock = check.choice(fields.get("clock", "business"), f"{key}.clock", [c.value for c in ClockKind])
        if respond and resolve and respond > resolve:
            check.problem(f"{key}.respond", f"is longer than resolve ({fields['resolve']})")
        if name and respond and resolve and clock:
            targets[code] = PriorityTarget(code, name, respond, resolve, ClockKind(clock))
    return targets, [code for code in body if isinstance(code, str)]


def _matrix(check: Checker, value: Any, codes: list[str] | None) -> dict[str, dict[str, str]]:
    body = check.fields(value, "matrix", LEVELS) or {}
    matrix: dict[str, dict[str, str]] = {}
    for impact in LEVELS:
        row = check.fields(body.get(impact, MISSING), f"matrix.{impact}", LEVELS) or {}
        for urgency in LEVELS:
            key = f"matrix.{impact}.{urgency}"
            code = check.text(row.get(urgency, MISSING), key)
            if code is not None and codes is not None and code not in codes:
                check.problem(key, f'no priority "{code}" (known: {", ".join(codes) or "none"})')
            elif code is not None:
                matrix.setdefault(impact, {})[urgency] = code
    return matrix


def _rules(check: Checker, value: Any) -> tuple[TriageRule, ...]:
    rules: list[TriageRule] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(check.sequence(value, "rules") or []):
        key = key_path("rules", index)
        fields = check.fields(item, key, ("name", "match", "set"))
        if fields is None:
            continue
        name = check.text(fields["name"], f"{key}.name")
        if name is not None and name in first_index:
            check.problem(f"{key}.name", f'"{name}" is already the name of rules[{first_index[name]}]')
        elif name is not None:
            first_index[name] = index
        pattern = _regex(check, fields["match"], f"{key}.match")
        sets = check.fields(fields["set"], f"{key}.set", (), ("category", "impact", "urgency"))
        if sets == {}:
            check.problem(f"{key}.set", "must set at least one of category, impact, urgency")
        sets = sets or {}
        category = check.text(sets["category"], f"{key}.set.category") if "category" in sets else None
        impact = check.choice(sets["impact"], f"{key}.set.impact", LEVELS) if "impact" in sets else None
        urgency = check.choice(sets["urgency"], f"{key}.set.urgency", LEVELS) if "urgency" in sets else None
        if name is not None and pattern is not None:
            rules.append(TriageRule(name, pattern, category, impact, urgency))
    return tuple(rules)


def _regex(check: Checker, value: Any, key: str) -> re.Pattern[str] | None:
    text = value if isinstance(value, str) else check.text(value, key)  # "" is a valid catch-all
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as error:
        check.problem(key, f"is not a valid regular expression: {error}")
        return None


def _pause_on(check: Checker, value: Any) -> frozenset[str]:
    items = check.sequence(value, "pause_on") or []
    statuses = (check.choice(item, key_path("pause_on", index), PAUSABLE) for index, item in enumerate(items))
    return frozenset(status for status in statuses if status is not None)


def _escalations(check: Checker, value: Any) -> tuple[EscalationStep, ...]:
    steps: list[EscalationStep] = []
    first_index: dict[tuple[str, int], int] = {}
    for index, item in enumerate(check.sequence(value, "escalations") or []):
        key = key_path("escalations", index)
        fields = check.fields(item, key, ("metric", "at", "notify"), ("repeat_every",))
        if fields is None:
            continue
        metric = check.choice(fields["metric"], f"{key}.metric", [m.value for m in Metric])
        at = check.integer(fields["at"], f"{key}.at", 1, 1000)
        notify = _notify(check, fields["notify"], f"{key}.notify")
        repeat_every = parse_duration(check, fields.get("repeat_every", MISSING), f"{key}.repeat_every")
        if repeat_every is not None and at is not None and at < 100:
            check.problem(f"{key}.repeat_every", f"only steps at 100 or more repeat (this one is at {at})")
        if metric is not None and at is not None:
            if (metric, at) in first_index:
                other = first_index[(metric, at)]
                check.problem(f"{key}.at", f"{metric} at {at} is already escalations[{other}]")
            first_index.setdefault((metric, at), index)
        if metric is not None and at is not None and notify is not None:
            steps.append(EscalationStep(index, Metric(metric), at, notify, repeat_every))
    return tuple(steps)


def _notify(check: Checker, value: Any, key: str) -> tuple[str, ...] | None:
    items = check.sequence(value, key, non_empty=True)
    if items is None:
        return None
    targets: list[str] = []
    for index, item in enumerate(items):
        target = check.choice(item, key_path(key, index), NOTIFY_TARGETS)
        if target is not None and target in targets:
            check.problem(key_path(key, index), f'"{target}" is listed twice')
        elif target is not None:
            targets.append(target)
    return tuple(targets)


def _defaults(check: Checker, value: Any) -> TriageDefaults:
    fields = check.fields(value, "defaults", (), ("category", "impact", "urgency")) or {}
    fallback = TriageDefaults()
    category = check.text(fields.get("category", fallback.category), "defaults.category")
    impact = check.choice(fields.get("impact", fallback.impact), "defaults.impact", LEVELS)
    urgency = check.choice(fields.get("urgency", fallback.urgency), "defaults.urgency", LEVELS)
    return TriageDefaults(
        category or fallback.category, impact or fallback.impact, urgency or fallback.urgency
    )
