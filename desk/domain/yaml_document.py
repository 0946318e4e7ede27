"""Reading hand-edited YAML strictly, and collecting every problem with the dotted key it belongs to.

PyYAML raises on the first syntax error and silently keeps the last of two equal keys; an operator editing
`playbooks/` needs every mistake at once, each named as `file: key: problem`. So a document is composed to
nodes first, where duplicate keys and alias loops are still visible with their line numbers, and only then
constructed; and a `Checker` records problems and carries on instead of raising. Used by
`playbook_schema.py` and `registry_schema.py`; pure (text in, data out).
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from desk.errors import Problem


class _Missing:
    """A value that is absent, or unusable because its problem is already recorded: checks skip it."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2})")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that keeps an impossible date (2026-02-30) as text, so a check can name its key."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def key_path(parent: str, key: object) -> str:
    """`calendar` + `hours` -> `calendar.hours`; an int is a list index: `rules` + 2 -> `rules[2]`."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def shown(value: object) -> str:
    """A value as the operator wrote it: text in double quotes, containers by kind."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """A hint for a near miss: a typo (`resolv`), a longer form (`monday`) or a unique abbreviation."""
    text, choices = str(word), sorted(options)
    longer = [choice for choice in choices if len(text) >= 3 and text.startswith(choice)]
    shorter = [choice for choice in choices if len(text) >= 3 and choice.startswith(text)]
    close = longer or (shorter if len(shorter) == 1 else difflib.get_close_matches(text, choices, 1, 0.75))
    return f' (did you mean "{close[0]}"?)' if close else ""


def parse_time_of_day(text: str, *, allow_end_of_day: bool = False) -> int | None:
    """`"09:30"` -> seconds since midnight; `"24:00"` only where a window may end at midnight."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if allow_end_of_day and (hours, minutes) == (24, 0):
        return 86400
    return hours * 3600 + minutes * 60 if hours < 24 and minutes < 60 else None


def load_yaml(check: Checker, text: str) -> Any:
    """The document's data, or MISSING once the reason there is none has been recorded."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            check.problem("", "the file is empty")
            return MISSING
        if not _walk(check, node, "", set(), set()):
            return MISSING
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        check.problem("", f"YAML syntax error{where}: {_reason(error)}")
    except yaml.YAMLError as error:
        check.problem("", f"YAML syntax error: {error}")
    finally:
        loader.dispose()
    return MISSING


def _reason(error: yaml.MarkedYAMLError) -> str:
    """PyYAML's own words, without its source excerpt; "but found …" needs its context to make sense."""
    problem, context = error.problem or "", error.context or ""
    if problem.startswith("but ") and context:
        return f"{context}, {problem}"
    return problem or context or "cannot be read"


def _walk(check: Checker, node: Node, path: str, on_path: set[int], done: set[int]) -> bool:
    """Report keys given twice in one mapping; False on an alias that contains itself (unloadable)."""
    if id(node) in on_path:
        check.problem(path, "an alias refers to itself")
        return False
    if id(node) in done:
        return True  # an alias of a node already checked
    on_path.add(id(node))
    ok = True
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                ok = _walk(check, value_node, path, on_path, done) and ok
                continue
            if key in first_line:
                first = first_line[key]
                where = f"on line {line}" if line == first else f"(lines {first} and {line})"
                check.problem(key_path(path, key), f"given twice {where}: keep one")
            first_line.setdefault(key, line)
            ok = _walk(check, value_node, key_path(path, key), on_path, done) and ok
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            ok = _walk(check, item, key_path(path, index), on_path, done) and ok
    on_path.discard(id(node))
    done.add(id(node))
    return ok


def plain(value: Any) -> Any:
    """Loaded YAML as JSON-able data: dates as ISO strings, sets as sorted lists, keys as text."""
    if isinstance(value, dict):
        return {_plain_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set):
        return sorted(_plain_key(item) for item in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _plain_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    return key.isoformat() if isinstance(key, date) else json.dumps(plain(key))


class Checker:
    """The problems of one file. Every check records what is wrong and returns None (or a placeholder),
    so a parser can keep going and report the whole file at once; MISSING input is skipped silently
    because whoever found it missing has already said so."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def mapping(self, value: Any, key: str) -> dict[Any, Any] | None:
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.problem(key, f"must be a mapping, not {shown(value)}")
            return None
        return value

    def fields(
        self, value: Any, key: str, required: Sequence[str] = (), optional: Sequence[str] = ()
    ) -> dict[Any, Any] | None:
        """A mapping with a known set of keys; absent required keys come back as MISSING."""
        body = self.mapping(value, key)
        if body is None:
            return None
        allowed = [*required, *optional]
        for name in body:
            if name not in allowed:
                hint = did_you_mean(name, allowed) or f" (expected: {', '.join(allowed)})"
                self.problem(key_path(key, str(name)), f"unknown key{hint}")
        for name in required:
            if name not in body:
                self.problem(key_path(key, name), "missing")
        return {**body, **{name: MISSING for name in required if name not in body}}

    def sequence(self, value: Any, key: str, *, non_empty: bool = False) -> list[Any] | None:
        if value is MISSING:
            return None
        if not isinstance(value, list):
            self.problem(key, f"must be a list, not {shown(value)}")
            return None
        if non_empty and not value:
            self.problem(key, "must not be empty")
            return None
        return value

    def text(self, value: Any, key: str) -> str | None:
        if value is MISSING:
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be text, not {shown(value)}")
            return None
        if not value.strip():
            self.problem(key, "must not be empty")
            return None
        return value

    def choice(self, value: Any, key: str, choices: Sequence[str]) -> str | None:
        if value is MISSING:
            return None
        if not isinstance(value, str) or value not in choices:
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            self.problem(key, f"{shown(value)} is not one of {', '.join(choices)}{hint}")
            return None
        return value

    def matching(self, value: Any, key: str, pattern: re.Pattern[str], what: str) -> str | None:
        if value is MISSING:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.problem(key, f"{shown(value)} is not {what}")
            return None
        return value

    def integer(self, value: Any, key: str, low: int, high: int) -> int | None:
        if value is MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(key, f"must be a whole number from {low} to {high}, not {shown(value)}")
            return None
        return value

    def time_of_day(self, value: Any, key: str) -> int | None:
        if value is MISSING:
            return None
        seconds = parse_time_of_day(value) if isinstance(value, str) else None
        if seconds is None:
            hint = " (YAML reads an unquoted 10:30 as a number: quote it)" if isinstance(value, int) else ""
            self.problem(key, f'{shown(value)} is not a time of day: use "HH:MM", e.g. "09:00"{hint}')
        return seconds
