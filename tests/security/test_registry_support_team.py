"""Issue 12, finding 8: the registry cannot make the support team's workspace a council's.

A council listing `support.team` among its `slack.teams` would silently turn every engineer into that
council's member (tenancy maps a team to its council before anything else), seeing only that council's
tickets and acting as its staff. `desk playbooks validate` names the clash; `sync` loads nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from desk.db import queries
from desk.db.engine import make_engine, unit_of_work
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_cli


def clashing(target: Path) -> Path:
    shutil.copytree(TEST_PLAYBOOKS, target)
    councils = target / "councils.yaml"
    text = councils.read_text()
    assert "slack: {teams: [T0FIFE0001], channels: [C0FIFE0001, C0FIFE0002]}" in text
    councils.write_text(text.replace("slack: {teams: [T0FIFE0001], channels: [C0FIFE0001, C0FIFE0002]}",
                                     "slack: {teams: [T0FIFE0001, T0SUPPORT], channels: [C0FIFE0001]}"))
    return target


def test_validate_names_the_clash_and_sync_loads_nothing(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DESK_DATABASE_URL": database_url}
    directory = clashing(tmp_path / "playbooks")
    validated = desk_cli(env, "playbooks", "validate", str(directory))
    assert validated.returncode == 1
    assert ("councils.yaml: councils[1].slack.teams[1]: T0SUPPORT is the support team's own workspace "
            "(support.team): a council listing it would make every engineer that council's member"
            ) in validated.stdout + validated.stderr

    assert desk_cli(env, "db", "upgrade").returncode == 0
    assert desk_cli(env, "playbooks", "sync", str(TEST_PLAYBOOKS)).returncode == 0
    synced = desk_cli(env, "playbooks", "sync", str(directory))
    assert synced.returncode == 1 and "councils[1].slack.teams[1]" in synced.stdout + synced.stderr
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            fife = queries.get_council(session, "fife")
            assert fife.slack["teams"] == ["T0FIFE0001"]  # nothing of the clashing registry was loaded
    finally:
        engine.dispose()
