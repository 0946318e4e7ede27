"""House rule 1: dependencies point down. Checked from the source, so a violation fails CI.

domain <- db <- services <- (slack | scheduling) <- wiring / cli. The domain imports no database, Slack,
scheduler or template code; services import no Slack, scheduler or template code; only `desk/clock.py`
reads the wall clock. `observability` (metrics, logs) sits beside the bottom: any layer but the pure
domain may use it, it uses none of them, and it is the only place that touches prometheus_client below
the adapters.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "desk"

FORBIDDEN = {
    "domain": ("desk.db", "desk.services", "desk.slack", "desk.scheduling", "desk.cli", "desk.wiring",
               "desk.observability", "sqlalchemy", "sqlmodel", "slack_bolt", "slack_sdk", "apscheduler", "jinja2",
               "alembic", "prometheus_client"),
    "db": ("desk.services", "desk.slack", "desk.scheduling", "desk.cli", "desk.wiring", "slack_bolt",
           "slack_sdk", "apscheduler", "jinja2", "prometheus_client"),
    "services": ("desk.slack", "desk.scheduling", "desk.cli", "desk.wiring", "slack_bolt", "slack_sdk",
                 "apscheduler", "jinja2", "prometheus_client"),
    "observability": ("desk.db", "desk.services", "desk.slack", "desk.scheduling", "desk.cli", "desk.wiring",
                      "sqlalchemy", "sqlmodel", "slack_bolt", "slack_sdk", "apscheduler", "jinja2"),
    "rendering": ("desk.db", "desk.slack", "desk.scheduling", "desk.cli", "desk.wiring", "sqlalchemy", "sqlmodel",
                  "slack_bolt", "slack_sdk", "apscheduler"),
    "slack": ("desk.scheduling", "desk.cli", "apscheduler"),
    "api": ("desk.slack", "desk.scheduling", "desk.cli", "desk.wiring", "slack_bolt", "slack_sdk", "apscheduler"),
    "scheduling": ("desk.slack", "desk.cli", "slack_bolt"),
    # The sandbox plays Slack (the stand-in, the driver, the console): it speaks to desk only over HTTP, as
    # Slack does, and imports nothing of desk's. Only `desk sandbox` (desk/cli/sandbox_run.py) knows both.
    "sandbox": ("desk.domain", "desk.db", "desk.services", "desk.slack", "desk.scheduling", "desk.cli",
                "desk.wiring", "desk.api", "desk.rendering", "desk.config", "desk.clock", "desk.observability",
                "desk.server", "sqlalchemy", "sqlmodel", "slack_bolt", "apscheduler", "jinja2"),
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in modules(layer)
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offences == []


# The sandbox stands in for Slack, whose clock is not desk's: it stamps requests with the wall time
# because Bolt checks signature timestamps against the wall time (desk/sandbox/ids.py: wall_time).
WALL_CLOCK_READERS = {"desk/clock.py", "desk/sandbox/ids.py"}


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if str(path.relative_to(PACKAGE.parent)) in WALL_CLOCK_READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today", "time", "time_ns") \
                    and isinstance(node.value, ast.Name) and node.value.id in ("datetime", "date", "time"):
                readers.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert readers == []


def test_the_layers_exist() -> None:
    assert modules("domain") and modules("db") and modules("services")
