"""`desk playbooks validate` and `sync` cover replies.yaml: a bad placeholder is named with its reply and
the directory is refused whole; a good one is synced and versioned (a changed reply gets a new version)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.cli.test_cli import desk  # noqa: F401  (the fixture)
from tests.conftest import TEST_PLAYBOOKS

REPLIES = Path(__file__).resolve().parents[1] / "fixtures" / "replies" / "replies.yaml"


def directory(tmp_path: Path, replies: str) -> Path:
    path = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, path)
    (path / "replies.yaml").write_text(replies)
    return path


def test_a_bad_placeholder_is_refused_naming_the_reply_and_the_placeholder(desk, tmp_path: Path,  # noqa: F811
                                                                          database_url: str) -> None:
    bad = REPLIES.read_text().replace("{{ next_working_day }}", "{{ nxt_working_day }}")
    bad += "  - id: logic\n    title: Not allowed\n    body: \"{% if ref %}hi{% endif %}\"\n"
    path = directory(tmp_path, bad)
    assert desk("db", "upgrade").code == 0
    for command in ("validate", "sync"):
        result = desk("playbooks", command, str(path))
        assert result.code == 1
        lines = result.err.strip().splitlines()
        assert any(line.startswith('replies.yaml: replies[0].body: reply "looking-into-it": unknown placeholder '
                                   "{{ nxt_working_day }}") for line in lines), lines
        assert any(line.startswith('replies.yaml: replies[2].body: reply "logic": \'{% if ref %}') for line in lines), lines
    with create_engine(database_url).connect() as connection:  # nothing half-loaded
        assert connection.execute(text("SELECT count(*) FROM saved_reply_version")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM playbook_version")).scalar() == 0


def test_replies_are_synced_and_versioned(desk, tmp_path: Path, database_url: str) -> None:  # noqa: F811
    path = directory(tmp_path, REPLIES.read_text())
    assert desk("db", "upgrade").code == 0
    result = desk("playbooks", "validate", str(path))
    assert result.code == 0 and "2 saved replies" in result.out
    assert "saved reply looking-into-it: new version 1" in desk("playbooks", "sync", str(path)).out
    assert "saved replies: looking-into-it (v1), need-export (v1)" in desk("status").out
    (path / "replies.yaml").write_text(REPLIES.read_text().replace("Could you attach", "Please attach"))
    out = desk("playbooks", "sync", str(path)).out
    assert "saved reply need-export: new version 2" in out and "saved replies unchanged: looking-into-it" in out
    (path / "replies.yaml").write_text("replies:\n  - id: need-export\n    title: Export\n"
                                       "    body: Please attach the export for {{ ref }}.\n")
    assert "saved replies retired (no longer offered): looking-into-it" in desk("playbooks", "sync", str(path)).out
    with create_engine(database_url).connect() as connection:
        rows = connection.execute(text("SELECT reply_id, version, current FROM saved_reply_version "
                                       "ORDER BY reply_id, version")).all()
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [
        ("looking-into-it", 1, False), ("need-export", 1, False), ("need-export", 2, False),
        ("need-export", 3, True)]  # the last write also changed its title: a third version
