"""`desk rota show` in-process against a real database synced with a rota: who is on duty then, the next
handover, leave; and, without a rota, the registry's duty lead."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS

ROTA = """\
  rota:
    calendar: standard
    weeks:
      - {week: 2026-03-30, duty_lead: U0ENGINEER1, engineers: [U0ENGINEER1, U0ENGINEER2]}
      - {week: 2026-04-06, duty_lead: U0ENGINEER2, engineers: [U0ENGINEER2, U0ENGINEER1]}
    leave:
      - {person: U0ENGINEER2, from: 2026-04-08, to: 2026-04-09}
"""


def desk_with(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str,
              playbooks: Path) -> Callable[..., Result]:
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(playbooks))

    def run(*args: str) -> Result:
        return run_desk(capsys, *args)

    assert run("db", "upgrade").code == 0 and run("playbooks", "sync").code == 0
    return run


@pytest.fixture
def desk(monkeypatch, capsys, database_url: str, tmp_path: Path) -> Callable[..., Result]:
    directory = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    (directory / "councils.yaml").write_text((directory / "councils.yaml").read_text() + ROTA)
    return desk_with(monkeypatch, capsys, database_url, directory)


def test_show_names_the_duty_lead_then_and_the_next_handover_after_a_bank_holiday(desk) -> None:
    easter_monday = desk("rota", "show", "--at", "2026-04-06T12:00", "--json")
    assert easter_monday.code == 0, easter_monday.err
    found = easter_monday.json()
    assert (found["duty_lead"], found["week"], found["source"]) == ("U0ENGINEER1", "2026-03-30", "weeks[0]")
    assert found["next_handover_at"] == "2026-04-07T08:00:00+00:00"  # Tuesday 09:00 BST
    text = desk("rota", "show", "--at", "2026-04-07T09:00")
    assert text.code == 0
    assert "duty lead: U0ENGINEER2 — weeks[1], week of 2026-04-06" in text.out
    assert "next handover Mon 13 Apr 2026 09:00:00 BST" in text.out


def test_show_says_who_stands_in_for_a_duty_lead_on_leave(desk) -> None:
    away = desk("rota", "show", "--at", "2026-04-08T10:00")
    assert away.code == 0
    assert "duty lead: U0ENGINEER1 (standing in: U0ENGINEER2 is on leave)" in away.out
    assert "on leave today: U0ENGINEER2" in away.out


def test_a_bad_instant_is_refused_by_name(desk) -> None:
    bad = desk("rota", "show", "--at", "next tuesday")
    assert bad.code == 1 and "--at: 'next tuesday' is not a date and time" in bad.err


def test_without_a_rota_the_registry_duty_lead_stands(monkeypatch, capsys, database_url: str) -> None:
    run = desk_with(monkeypatch, capsys, database_url, TEST_PLAYBOOKS)
    found = run("rota", "show", "--at", "2026-04-07T09:00Z", "--json").json()
    assert (found["rota"], found["duty_lead"]) == (False, "U0DUTYLEAD")


def test_a_subject_access_export_includes_the_persons_rota_weeks_and_leave(desk, tmp_path: Path) -> None:
    out = tmp_path / "engineer2.json"
    result = desk("privacy", "export", "--user", "U0ENGINEER2", "--out", str(out), "--by", "dpo@support")
    assert result.code == 0, result.err
    rota = json.loads(out.read_text())["duty_rota"]
    assert [w["week"] for w in rota["weeks"]] == ["2026-03-30", "2026-04-06"]
    assert rota["leave"] == [{"person": "U0ENGINEER2", "from": "2026-04-08", "to": "2026-04-09"}]
    assert rota["pattern_start"] is None and rota["pattern_cycle"] == []
