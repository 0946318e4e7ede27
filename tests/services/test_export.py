"""A council's data, exported: only its own rows, internal notes left out, SLA figures worked out by hand.

The seeded history is reused by the API, retention and CLI tests (`seed_history`).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from desk.db.engine import unit_of_work
from desk.domain.audit import event_hash
from desk.services import audit_export, council_data, export, tickets

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a working Monday, GMT
CHERWELL_TITLE = "Refund for Mrs Jones of 14 Acacia Avenue"
CHERWELL_WORDS = (CHERWELL_TITLE, "Card ending 4242 was charged twice", "Looking into the refund now",
                  "Here is the receipt", "Refunded in full")
INTERNAL_NOTE = "Internal: their PSP merchant config is wrong"
FIFE_TITLE = "Fife secret: the direct debit run failed"


def seed_history(engine: Engine) -> None:
    """CHW-1: a P3 answered, paused an hour, resolved and closed; CHW-2: open; FIFE-1: another council's."""
    at = MONDAY
    with unit_of_work(engine) as session:
        t = tickets.open_ticket(session, council_id="cherwell", title=CHERWELL_TITLE,
                                description=CHERWELL_WORDS[1], requester="U0ALICE001", actor="U0ALICE001",
                                at=at)
        tickets.reply(session, ref=t.ref, text=CHERWELL_WORDS[2], actor="U0ENGINEER1",
                      at=at + timedelta(minutes=30))
        tickets.note(session, ref=t.ref, text=INTERNAL_NOTE, actor="U0ENGINEER1",
                     at=at + timedelta(minutes=40))
        tickets.set_status(session, ref=t.ref, status="waiting_on_council", actor="U0ENGINEER1",
                           at=at + timedelta(hours=1))
        tickets.comment(session, ref=t.ref, text=CHERWELL_WORDS[3], actor="U0ALICE001",
                        at=at + timedelta(hours=2))
        tickets.resolve(session, ref=t.ref, note=CHERWELL_WORDS[4], actor="U0ENGINEER1",
                        at=at + timedelta(hours=3))
        tickets.close(session, ref=t.ref, actor="desk", at=at + timedelta(days=2))
        tickets.open_ticket(session, council_id="cherwell", title="Report needed for the audit committee",
                            actor="U0ALICE001", at=at + timedelta(hours=1))
        tickets.open_ticket(session, council_id="fife", title=FIFE_TITLE, description="Bank file rejected",
                            actor="U0BRUCE001", at=at + timedelta(minutes=5))


@pytest.fixture
def history(synced: Engine) -> Engine:
    seed_history(synced)
    return synced


def records(engine: Engine, council: str, now: datetime = MONDAY + timedelta(days=3)) -> list[dict]:
    with unit_of_work(engine) as session:
        return list(council_data.export_records(session, council, now))


def test_export_holds_only_the_councils_rows_and_never_internal_notes(history: Engine) -> None:
    rows = records(history, "cherwell")
    assert {r["ticket"] if r["record"] != "ticket" else r["ref"] for r in rows} == {"CHW-1", "CHW-2"}
    text = json.dumps(rows)
    assert "FIFE" not in text and FIFE_TITLE not in text
    assert INTERNAL_NOTE not in text and all(r.get("type") != "noted" for r in rows)
    kinds = [(r["record"], r.get("ref") or r.get("ticket")) for r in rows]
    assert kinds[0] == ("ticket", "CHW-1")  # each ticket is followed by its events and SLA cycles
    assert [r["type"] for r in rows if r["record"] == "event" and r["ticket"] == "CHW-1"] == [
        "opened", "replied", "status", "status", "commented", "status", "resolved", "closed"]
    fife = records(history, "fife")
    assert [r["ref"] for r in fife if r["record"] == "ticket"] == ["FIFE-1"]
    assert "CHW" not in json.dumps(fife)


def test_sla_cycles_match_the_figures_worked_out_by_hand(history: Engine) -> None:
    """P3 (respond 4h, resolve 24h, business hours 09:00-12:30, 13:30-17:00 Mon-Thu).

    Respond: 09:00 + 4h of working time = 14:00 Monday; met by the 09:30 reply. Resolve: 1h consumed by
    10:00, paused until 11:00, then 23h more: Mon 5h, Tue 7h, Wed 7h, Thu 09:00-12:30 and 13:30-14:00.
    """
    cycles = {(r["ticket"], r["metric"], r["cycle"]): r for r in records(history, "cherwell")
              if r["record"] == "sla_cycle"}
    respond = cycles[("CHW-1", "respond", 1)]
    shown = ("started_at", "due_at", "stopped_at", "met", "breached", "target_seconds")
    assert {k: respond[k] for k in shown} == {
        "started_at": "2026-01-05T09:00:00+00:00", "due_at": "2026-01-05T14:00:00+00:00",
        "stopped_at": "2026-01-05T09:30:00+00:00", "met": True, "breached": False, "target_seconds": 4 * 3600}
    resolve = cycles[("CHW-1", "resolve", 1)]
    shown = ("due_at", "stopped_at", "paused", "paused_seconds", "met", "breached_at")
    assert {k: resolve[k] for k in shown} == {
        "due_at": "2026-01-08T14:00:00+00:00", "stopped_at": "2026-01-05T12:00:00+00:00", "paused": False,
        "paused_seconds": 3600, "met": True, "breached_at": None}
    # CHW-2 (P4 by the report rule: respond 8h), opened Monday 10:00, is still open three days on: breached,
    # as of the export, at Tuesday 11:00 (Mon 10:00-12:30 and 13:30-17:00 are 6h, then Tue 09:00-11:00)
    open_respond = cycles[("CHW-2", "respond", 1)]
    assert open_respond["breached"] is True and open_respond["met"] is False
    assert open_respond["breached_at"] == "2026-01-06T11:00:00+00:00"


def test_jsonl_is_one_object_a_line(history: Engine) -> None:
    stream = io.StringIO()
    counts = export.write_jsonl(records(history, "cherwell"), stream)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert counts == {"ticket": 2, "event": 9, "sla_cycle": 4} and len(lines) == 15
    assert {line["record"] for line in lines} == {"ticket", "event", "sla_cycle"}


def test_csv_to_a_directory_and_to_a_zip(history: Engine, tmp_path: Path) -> None:
    rows = records(history, "cherwell")
    export.write_csv(rows, tmp_path / "out")
    with (tmp_path / "out" / "tickets.csv").open(encoding="utf-8-sig", newline="") as f:
        tickets_csv = list(csv.DictReader(f))
    assert [t["ref"] for t in tickets_csv] == ["CHW-1", "CHW-2"]
    assert tickets_csv[0]["title"] == CHERWELL_TITLE
    assert tickets_csv[0]["closed_at"] == "2026-01-07T09:00:00+00:00"
    with (tmp_path / "out" / "events.csv").open(encoding="utf-8-sig", newline="") as f:
        events_csv = list(csv.DictReader(f))
    assert json.loads(events_csv[1]["data"]) == {"text": CHERWELL_WORDS[2]}
    export.write_csv(rows, tmp_path / "cherwell.zip")
    with zipfile.ZipFile(tmp_path / "cherwell.zip") as archive:
        assert sorted(archive.namelist()) == ["events.csv", "sla_cycles.csv", "tickets.csv"]
        assert archive.read("tickets.csv") == (tmp_path / "out" / "tickets.csv").read_bytes()


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(synced: Engine, tmp_path: Path) -> None:
    with unit_of_work(synced) as session:
        tickets.open_ticket(session, council_id="cherwell", title='=HYPERLINK("http://evil.example","x")',
                            description="@SUM(1+1)", actor="U0ALICE001", at=MONDAY)
    export.write_csv(records(synced, "cherwell"), tmp_path)
    with (tmp_path / "tickets.csv").open(encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["title"].startswith("'=") and row["description"] == "'@SUM(1+1)"


def test_a_file_in_the_way_of_a_csv_directory_is_refused(history: Engine, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(Exception, match="is a file"):
        export.write_csv(records(history, "cherwell"), tmp_path / "taken")


def test_an_unknown_council_is_refused(history: Engine) -> None:
    with pytest.raises(Exception, match="no council 'narnia'"):
        records(history, "narnia")


def audit_lines(session: Session, council: str) -> list[dict]:
    return list(audit_export.export_chain(session, council, MONDAY + timedelta(days=3)))


def test_audit_export_withholds_internal_notes_yet_verifies(history: Engine) -> None:
    with unit_of_work(history) as session:
        header, *events = audit_lines(session, "cherwell")
    assert header["record"] == "audit_header" and header["council"] == "cherwell"
    assert header["head"] == {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}
    assert "sha256" in header["how_to_verify"]
    note = next(e for e in events if e["type"] == "noted")
    assert INTERNAL_NOTE not in json.dumps(events) and set(note["data"]["text"]) == {"withheld"}
    assert note["salt"] is None
    assert all(e["council"] == "cherwell" for e in events) and [e["seq"] for e in events] == list(
        range(1, len(events) + 1))
    # Withheld words still hash as they did: the digest stands in for them; the other events hash as stored
    for line in events:
        assert event_hash(council_id=line["council"], seq=line["seq"], ticket_ref=line["ticket"],
                          type=line["type"], actor=line["actor"], at=datetime.fromisoformat(line["at"]),
                          data=line["data"], prev_hash=line["prev_hash"], version=line["version"],
                          salt=line["salt"]) == line["hash"]
