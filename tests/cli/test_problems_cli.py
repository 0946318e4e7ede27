"""`desk problems list|show` and `desk audit verify` over the problems' chain: the real entry point, a real
database file, the frozen test playbooks; problems made through the service as Slack would make them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from desk.db.engine import make_engine, unit_of_work
from desk.services import problems
from tests.cli.test_cli import desk, ready  # noqa: F401  (fixtures)

ENGINEER = "U0ENGINEER1"


@pytest.fixture
def linked(ready, database_url: str):  # noqa: F811
    for council, title in (("cherwell", "GOV.UK Pay timing out"), ("fife", "GOV.UK Pay errors"),
                           ("belfast", "Report needed")):
        assert ready("tickets", "open", "--council", council, "--title", title, "--requester", "U0X").code == 0
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with unit_of_work(engine) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay timeouts", summary="Card payments time out.",
                                        owner=ENGINEER, by=ENGINEER, now=now, from_ticket="CHW-1",
                                        match=["gov.uk pay"])
        problems.link(session, problem.id, "FIFE-1", by=ENGINEER, now=now)
        problems.update_problem(session, problem.id, by=ENGINEER, now=now, key="k1",
                                workaround="Take payments by phone.")
        problems.open_problem(session, title="BACS format", summary="", owner=None, by=ENGINEER, now=now)
    engine.dispose()
    return ready


def test_list_shows_each_problem_with_its_counts(linked) -> None:
    result = linked("problems", "list", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert [(r["ref"], r["status"], r["tickets"], r["councils"]) for r in rows] == [
        ("PRB-2", "investigating", 0, 0), ("PRB-1", "known_error", 2, 2)]
    assert [r["ref"] for r in linked("problems", "list", "--open", "--json").json()] == ["PRB-2", "PRB-1"]
    text_out = linked("problems", "list").out
    assert "PRB-1" in text_out and "known error" in text_out and "2 ticket(s), 2 council(s)" in text_out


def test_show_gives_history_updates_and_tickets_by_council_with_sla(linked) -> None:
    result = linked("problems", "show", "PRB-1", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    assert [(h["from"], h["to"]) for h in shown["history"]] == [(None, "investigating"),
                                                               ("investigating", "known_error")]
    assert [u["text"] for u in shown["updates"]] == ["Workaround: Take payments by phone.\n\n(Status: known error.)"]
    assert sorted(shown["tickets_by_council"]) == ["cherwell", "fife"]
    fife = shown["tickets_by_council"]["fife"][0]
    assert (fife["ref"], fife["how"], fife["status"]) == ("FIFE-1", "manual", "in_progress")
    assert fife["sla"]["respond_met_at"] is not None  # the workaround was FIFE-1's first public reply
    out = linked("problems", "show", "prb-1").out
    assert "workaround: Take payments by phone." in out and "cherwell:" in out and "FIFE-1" in out


def test_an_unknown_problem_is_an_error_naming_it(linked) -> None:
    result = linked("problems", "show", "PRB-9")
    assert result.code == 1 and "no problem 'PRB-9'" in result.err


def test_audit_verify_covers_the_problems_chain(linked, database_url: str) -> None:
    verified = linked("audit", "verify", "--json")
    assert verified.code == 0
    chains = {c["council"]: c for c in verified.json()}
    assert chains["problems"]["ok"] and chains["problems"]["events"] == 5  # opened, linked ×2, updated, opened
    assert "problems" not in {c["council"] for c in linked("audit", "verify", "--council", "fife", "--json").json()}
    with create_engine(database_url).begin() as connection:
        connection.execute(text("UPDATE problem_event SET actor = 'U0MALLORY' WHERE seq = 4"))
    result = linked("audit", "verify")
    assert result.code == 1 and "problems: BROKEN at event 4" in result.err


def test_tickets_show_names_the_tickets_problem(linked) -> None:
    shown = linked("tickets", "show", "FIFE-1", "--json").json()
    assert shown["problem"] == {"ref": "PRB-1", "title": "GOV.UK Pay timeouts", "status": "known_error"}
    assert linked("tickets", "show", "BCC-1", "--json").json()["problem"] is None
    assert "problem PRB-1 (known error): GOV.UK Pay timeouts" in linked("tickets", "show", "FIFE-1").out
