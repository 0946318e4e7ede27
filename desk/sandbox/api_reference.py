"""The machine-readable Web API reference (`desk/sandbox/slack_api_ref/methods/*.json`) as an argument checker.

The stand-in answers any method Slack has, but only after checking the call the way Slack would: a real
method, every required argument, nothing it would silently ignore. A typo'd argument is the bug that passes
every test against a mock and then does nothing in production, so it is a violation here.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desk.errors import ConfigError

ENV_VARIABLE = "DESK_SLACK_API_REF"
# Accepted by every method though few method files list it: `team_id` picks the workspace for org-wide
# tokens, and Bolt's per-request WebClient adds it (the request's team) to every call it makes.
UNIVERSAL_ARGS = frozenset({"token", "team_id"})


# The methods desk uses, carried in the package with their MIT notice (see its README.md).
BUNDLED = Path(__file__).resolve().parent / "slack_api_ref"


def resolve_reference_dir(api_ref: Path | str | None = None) -> Path:
    """The argument, else `$DESK_SLACK_API_REF` (a fuller copy of the reference), else the bundled one."""
    if api_ref is not None:
        looked = [Path(api_ref)]
    elif os.environ.get(ENV_VARIABLE):
        looked = [Path(os.environ[ENV_VARIABLE])]
    else:
        looked = [BUNDLED]
    for path in looked:
        if (path / "methods").is_dir():
            return path.resolve()
    where = ", ".join(str(path) for path in looked)
    raise ConfigError(
        f"Slack API reference not found (looked for a methods/ directory in: {where}); "
        f"pass api_ref= or set {ENV_VARIABLE}"
    )


@dataclass(frozen=True)
class MethodSpec:
    """What the stand-in needs from one method file."""

    name: str
    required: frozenset[str]
    properties: frozenset[str]
    json_input_supported: bool
    errors: frozenset[str]


class ApiReference:
    """Method specs loaded on first use and cached: 200-odd files, most of which a test never touches."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, MethodSpec | None] = {}
        self._lock = threading.Lock()

    def method(self, name: str) -> MethodSpec | None:
        """The spec of a Web API method, or None when Slack has no such method."""
        with self._lock:
            if name not in self._specs:
                self._specs[name] = self._load(name)
            return self._specs[name]

    def _load(self, name: str) -> MethodSpec | None:
        if not name or "/" in name or name.startswith("."):
            return None
        path = self.root / "methods" / f"{name}.json"
        if not path.is_file():
            return None
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        args = raw.get("args") or {}
        errors = raw.get("errors") or {}
        return MethodSpec(
            name=name,
            required=frozenset(args.get("required") or ()),
            properties=frozenset((args.get("properties") or {}).keys()),
            json_input_supported=bool(raw.get("json_input_supported")),
            errors=frozenset(errors if isinstance(errors, dict | list) else ()),
        )

    def argument_problems(self, spec: MethodSpec, args: dict[str, Any]) -> list[str]:
        """Missing required arguments (the token travels apart) and arguments Slack does not know."""
        problems = [
            f"missing required argument `{name}`"
            for name in sorted(spec.required - {"token"})
            if args.get(name) in (None, "")
        ]
        unknown = set(args) - spec.properties - UNIVERSAL_ARGS
        problems += [f"unknown argument `{name}`" for name in sorted(unknown)]
        return problems
