"""Deadlines after a calendar change: a council's division corrected, its open tickets' clocks recomputed.

Cherwell (England and Wales) is moved to Scotland, whose St Andrew's Day falls on Monday 30 November 2026.
Business-clock deadlines that run across that Monday move a working day later; the day-walking reference
calendar is the oracle for where they must land.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from desk.db.engine import unit_of_work
from desk.db.tables import SlaClockRow, TicketRow
from desk.domain.calendar_reference import ReferenceCalendar
from desk.services import playbooks, sla_recompute, tickets
from desk.services.playbook_files import load_directory
from tests.cli.runner import run_desk
from tests.conftest import TEST_PLAYBOOKS

FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 15:00 GMT, an hour and a half before Friday's close
ST_ANDREWS_DAY = datetime(2026, 11, 30, tzinfo=UTC).date()


def playbooks_with(tmp_path: Path, cherwell_division: str) -> Path:
    directory = tmp_path / cherwell_division
    shutil.copytree(TEST_PLAYBOOKS, directory)
    registry = directory / "councils.yaml"
    registry.write_text(registry.read_text().replace(
        "    playbook: standard\n    slack: {teams: [T0CHERWELL]",
        f"    playbook: standard\n    division: {cherwell_division}\n    slack: {{teams: [T0CHERWELL]"))
    return directory


def sync(engine: Engine, directory: Path) -> playbooks.SyncReport:
    with unit_of_work(engine) as session:
        return playbooks.sync(session, load_directory(directory), at=FRIDAY)


def open_cherwell_tickets(engine: Engine) -> dict[str, int]:
    """One Cherwell ticket per priority and a Fife P2, all opened Friday 15:00: ticket ids by priority."""
    ids = {}
    with unit_of_work(engine) as session:
        for priority in ("P1", "P2", "P3", "P4"):
            ids[priority] = tickets.open_ticket(session, council_id="cherwell", title=f"{priority} card payments",
                                                at=FRIDAY, actor="U0ALICE001", priority=priority).id
        ids["fife"] = tickets.open_ticket(session, council_id="fife", title="Direct debits", at=FRIDAY,
                                          actor="U0BRUCE001", priority="P2").id
    return ids


def clocks(engine: Engine) -> dict[tuple[int, str], SlaClockRow]:
    with unit_of_work(engine) as session:
        rows = session.execute(select(SlaClockRow)).scalars().all()
        session.expunge_all()
    return {(row.ticket_id, row.metric): row for row in rows}


def test_a_division_change_moves_running_deadlines_to_where_the_new_calendar_puts_them(
        synced: Engine, tmp_path: Path) -> None:
    ids = open_cherwell_tickets(synced)
    before = clocks(synced)

    report = sync(synced, playbooks_with(tmp_path, "scotland"))
    assert report.divisions_changed == ["cherwell"]
    moved = sla_recompute.recompute(synced, councils=report.divisions_changed)
    after = clocks(synced)

    spec = load_directory(TEST_PLAYBOOKS).playbooks["standard"].calendar.with_division("scotland")
    reference = ReferenceCalendar(spec)
    changed = 0
    for (ticket_id, metric), row in after.items():
        old = before[(ticket_id, metric)]
        if ticket_id == ids["fife"] or row.clock == "24x7":
            assert (row.due_at, row.next_step_at) == (old.due_at, old.next_step_at)  # not Cherwell's calendar
            continue
        assert row.due_at == reference.add(row.running_since, row.target_seconds - row.consumed_before)
        changed += (row.due_at, row.next_step_at) != (old.due_at, old.next_step_at)
        if old.due_at.date() >= ST_ANDREWS_DAY:  # ran across the new holiday: a working day later
            assert row.due_at > old.due_at
    # P2 resolve (8h), P3 respond (4h) and resolve (24h), P4 respond (8h) and resolve (80h) span Monday;
    # P2 respond (1h, due 16:00 Friday) does not
    assert (ticket_id := ids["P2"]) and after[(ticket_id, "respond")].due_at == before[(ticket_id, "respond")].due_at
    assert after[(ids["P2"], "resolve")].due_at == before[(ids["P2"], "resolve")].due_at + timedelta(days=1)
    assert moved.clocks == 8  # the four Cherwell tickets' running clocks, Fife's untouched
    assert moved.moved == changed == 5 and moved.later == 5 and moved.earlier == 0 and moved.lost_races == 0

    again = sla_recompute.recompute(synced, councils=["cherwell"])
    assert (again.clocks, again.moved) == (8, 0)  # idempotent

    back = sync(synced, playbooks_with(tmp_path, "england-and-wales"))
    restored = sla_recompute.recompute(synced, councils=back.divisions_changed)
    assert restored.earlier == 5  # what would otherwise have fired a working day late
    final = clocks(synced)
    assert {k: (r.due_at, r.next_step_at) for k, r in final.items()} == {
        k: (r.due_at, r.next_step_at) for k, r in before.items()}


def test_stopped_and_paused_clocks_are_left_alone(synced: Engine, tmp_path: Path) -> None:
    ids = open_cherwell_tickets(synced)
    with unit_of_work(synced) as session:
        refs = dict(session.execute(select(TicketRow.id, TicketRow.ref)).all())
        tickets.set_status(session, ref=refs[ids["P3"]], status="waiting_on_council", actor="U0ENGINEER1",
                           at=FRIDAY + timedelta(minutes=30))
        tickets.resolve(session, ref=refs[ids["P4"]], actor="U0ENGINEER1", at=FRIDAY + timedelta(minutes=40),
                        note="Fixed")
    before = clocks(synced)
    moved = sla_recompute.recompute(synced, councils=sync(synced, playbooks_with(tmp_path, "scotland"))
                                    .divisions_changed)
    after = clocks(synced)
    for key in ((ids["P3"], "resolve"), (ids["P4"], "respond"), (ids["P4"], "resolve")):
        assert (after[key].due_at, after[key].next_step_at) == (before[key].due_at, before[key].next_step_at)
    with unit_of_work(synced) as session:
        statuses = dict(session.execute(select(TicketRow.id, TicketRow.status)).all())
    assert statuses[ids["P3"]] == "waiting_on_council" and statuses[ids["P4"]] == "resolved"
    # P2's resolve and P3's respond (waiting on the council pauses resolve only); P4's clocks are stopped
    assert (moved.clocks, moved.moved) == (5, 2)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str, tmp_path: Path):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))
    return lambda *args: run_desk(capsys, *args)


def test_sync_recomputes_by_itself_and_recompute_names_an_unknown_council(cli, database_url: str,
                                                                            tmp_path: Path) -> None:
    assert cli("db", "upgrade").code == 0
    assert cli("playbooks", "sync").code == 0
    from desk.db.engine import make_engine
    engine = make_engine(database_url)
    try:
        open_cherwell_tickets(engine)
    finally:
        engine.dispose()
    done = cli("playbooks", "sync", str(playbooks_with(tmp_path, "scotland")), "--json")
    assert done.code == 0, done.err
    assert done.json()["divisions_changed"] == ["cherwell"]
    assert {k: done.json()["recomputed"][k] for k in ("clocks", "moved", "later")} == {
        "clocks": 8, "moved": 5, "later": 5}
    shown = cli("sla", "recompute")
    assert shown.code == 0 and "10 running SLA clock(s) recomputed: 0 deadline(s) moved" in shown.out
    unknown = cli("sla", "recompute", "--council", "oxford")
    assert unknown.code != 0 and "oxford" in unknown.err and "cherwell" in unknown.err
