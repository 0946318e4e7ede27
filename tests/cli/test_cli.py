"""`desk` end to end: the real entry point, a real database file, the frozen test playbooks."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text

from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))

    def run(*args: str) -> Result:
        return run_desk(capsys, *args)

    return run


@pytest.fixture
def ready(desk):
    assert desk("db", "upgrade").code == 0
    assert desk("playbooks", "sync").code == 0
    return desk


def test_help_names_every_contract_command(desk) -> None:
    out = desk("--help").out
    for command in ("db", "playbooks", "sla", "tickets", "audit"):
        assert command in out
    assert "--council" in desk("sla", "due", "--help").out


def test_validate_a_good_directory(desk) -> None:
    result = desk("playbooks", "validate", str(TEST_PLAYBOOKS))
    assert result.code == 0 and "OK" in result.out


def test_a_broken_directory_is_refused_whole_with_every_problem_and_the_database_untouched(
    desk, tmp_path: Path, database_url: str
) -> None:
    broken = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, broken)
    playbook = broken / "standard.yaml"
    playbook.write_text(playbook.read_text().replace("respond: 1h,", "respond: 1x,")
                        .replace("low:    {high: P3, medium: P4, low: P4}", "low:    {high: P3, medium: P4}"))
    registry = broken / "councils.yaml"
    registry.write_text(registry.read_text().replace("playbook: standard\n    division: scotland",
                                                     "playbook: gold\n    division: scotland"))
    assert desk("db", "upgrade").code == 0
    for command in ("validate", "sync"):
        result = desk("playbooks", command, str(broken))
        assert result.code == 1
        lines = result.err.strip().splitlines()
        assert any(line.startswith("standard.yaml: priorities.P2.respond:") for line in lines), lines
        assert any(line.startswith("standard.yaml: matrix.low.low:") for line in lines), lines
        assert any(line.startswith("councils.yaml: councils[1].playbook:") for line in lines), lines
    with create_engine(database_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM playbook_version")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM council")).scalar() == 0


def test_sla_due_json_shape_and_figures(desk) -> None:
    result = desk("sla", "due", "--council", "cherwell", "--priority", "P2",
                  "--opened", "2026-01-05T16:00:00Z", "--json")
    assert result.code == 0, result.err
    assert result.json() == {
        "respond_due_at": "2026-01-05T17:00:00+00:00",
        "resolve_due_at": "2026-01-06T17:00:00+00:00",  # 1h Monday, 3h30 + 3h30 Tuesday around lunch
        "warn_at": {"respond": ["2026-01-05T16:45:00+00:00"], "resolve": ["2026-01-06T15:00:00+00:00"]},
    }


def test_sla_due_uses_the_councils_division(desk) -> None:
    """2 January 2027 is a Saturday: Scotland takes Monday 4 January off, England & Wales do not."""
    args = ("sla", "due", "--priority", "P2", "--opened", "2026-12-31T16:30:00Z", "--json")
    england = desk(*args, "--council", "cherwell").json()
    scotland = desk(*args, "--council", "fife").json()
    assert england["respond_due_at"] == "2027-01-04T09:30:00+00:00"
    assert scotland["respond_due_at"] == "2027-01-05T09:30:00+00:00"


def test_sla_due_refuses_bad_arguments_by_name(desk) -> None:
    assert "--opened" in desk("sla", "due", "--council", "cherwell", "--priority", "P2",
                              "--opened", "yesterday").err
    assert "unknown priority 'P7'" in desk("sla", "due", "--council", "cherwell", "--priority", "P7",
                                           "--opened", "2026-01-05T09:00:00Z").err
    result = desk("sla", "due", "--council", "narnia", "--priority", "P2", "--opened", "2026-01-05T09:00:00Z")
    assert result.code == 1 and "no council 'narnia'" in result.err


def test_sla_replay_json(desk, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"council": "cherwell", "events": [
        {"at": "2026-01-05T09:00:00Z", "type": "opened", "priority": "P2"},
        {"at": "2026-01-05T09:30:00Z", "type": "replied"},
        {"at": "2026-01-05T10:00:00Z", "type": "status", "status": "waiting_on_council"},
    ]}))
    result = desk("sla", "replay", str(history), "--as-of", "2026-01-05T11:00:00Z", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert document["priority"] == "P2"
    assert document["respond"] == {"due_at": "2026-01-05T10:00:00+00:00", "met_at": "2026-01-05T09:30:00+00:00",
                                   "breached": False, "breached_at": None}
    assert document["resolve"] == [{
        "cycle": 1, "started_at": "2026-01-05T09:00:00+00:00", "due_at": None, "stopped_at": None,
        "paused": True, "paused_seconds": 3600, "breached": False, "breached_at": None}]
    assert document["notifications"] == []
    listed = tmp_path / "histories.json"
    listed.write_text(json.dumps([json.loads(history.read_text())] * 2))
    assert len(desk("sla", "replay", str(listed), "--json").json()) == 2


def test_sla_replay_names_what_is_wrong_in_the_file(desk, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"council": "cherwell", "events": [{"at": "2026-01-05T09:00:00Z"}]}))
    result = desk("sla", "replay", str(history))
    assert result.code == 1 and "events[0].type" in result.err
    history.write_text("{not json")
    assert "not JSON" in desk("sla", "replay", str(history)).err


def test_tickets_list_and_show_json_shapes(ready) -> None:
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
        opened = ready("tickets", "open", "--council", "cherwell", "--title", "Cannot take card payments",
                       "--requester", "U0COUNCIL", "--json")
    assert opened.code == 0, opened.err
    listed = ready("tickets", "list", "--json").json()
    assert listed == [{"ref": "CHW-1", "council": "cherwell", "status": "new", "priority": "P1",
                       "category": "payments", "title": "Cannot take card payments", "requester": "U0COUNCIL",
                       "assignee": None, "opened_at": "2026-01-05T09:00:00+00:00"}]
    assert ready("tickets", "list", "--council", "fife", "--json").json() == []
    with time_machine.travel(datetime(2026, 1, 5, 9, 40, tzinfo=UTC), tick=False):
        shown = ready("tickets", "show", "chw-1", "--json").json()
    assert {k: shown[k] for k in listed[0]} == listed[0]
    assert shown["sla"]["respond"]["breached_at"] == "2026-01-05T09:30:00+00:00"
    assert [n["threshold"] for n in shown["sla"]["notifications"]] == [75, 100]
    assert [e["type"] for e in shown["events"]] == ["opened"]


def test_show_an_unknown_ticket(ready) -> None:
    result = ready("tickets", "show", "CHW-99")
    assert result.code == 1 and "no ticket CHW-99" in result.err


def test_audit_verify_exits_1_naming_the_tampered_event(ready, database_url: str) -> None:
    for title in ("Refund stuck", "Report needed"):
        assert ready("tickets", "open", "--council", "cherwell", "--title", title).code == 0
    assert ready("audit", "verify").code == 0
    with create_engine(database_url).begin() as connection:
        connection.execute(text("UPDATE ticket_event SET actor = 'U0MALLORY' WHERE seq = 2"))
    result = ready("audit", "verify", "--council", "cherwell")
    assert result.code == 1 and "cherwell: BROKEN at event 2" in result.err


def test_commands_refuse_a_database_that_is_not_migrated(desk) -> None:
    result = desk("tickets", "list")
    assert result.code == 1 and "desk db upgrade" in result.err


def test_no_secret_is_ever_printed(ready, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh-signing")
    result = ready("status")
    assert result.code == 0
    assert "xoxb-very-secret" not in result.out + result.err and "shh-signing" not in result.out + result.err
