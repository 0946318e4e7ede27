"""Subject access and erasure (`desk privacy export|redact`) after a scenario played through signed Slack
requests to the running app: a Cherwell officer raises two requests, comments and rates; an engineer works
tickets in Cherwell and Fife (claims, public replies, an internal note, a resolution).

Each export is checked field by field against what the person did (`Did` records every action as the test
takes it), through the real `desk` entry point on the same database; then erasure is checked the way an
auditor would: the words are nowhere in the database, everything else is, and `desk audit verify` passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel, select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import TicketEventRow
from desk.services import tickets
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    FIFE_CHANNEL,
    SUPPORT,
    TRIAGE,
    Desk,
)

CARD_PAYMENTS = "We cannot take card payments at the Banbury counter"
TERMINAL = "Terminal 3 rebooted, still failing"
REFUNDS = "The refunds report totals look wrong since Monday"
LOGS = "Looking at the card terminal logs now"
FIRMWARE = "Suspect the PIN pad firmware, checking with the supplier"
FIXED = "Replaced the PIN pad"
DIRECT_DEBIT = "Direct debit file rejected by the bank this morning"
BACS = "We are checking the BACS file format"


@dataclass
class Did:
    """What each person did, as the test did it: (ticket, event type, instant, words or fields)."""

    events: dict[str, list[tuple[str, str, datetime, dict]]] = field(default_factory=dict)

    def add(self, who: str, ref: str, type: str, at: datetime, **data) -> None:
        self.events.setdefault(who, []).append((ref, type, at, data))


@dataclass
class Scenario:
    desk: Desk
    did: Did
    cli: object


def card_ts(desk: Desk, ref: str) -> str:
    with unit_of_work(desk.engine) as session:
        ts = queries.get_ticket(session, ref).card_ts
    assert ts
    return ts


def say(desk: Desk, text: str, user: str, team: str, channel: str, thread_ts: str | None = None) -> dict:
    body = desk.driver.message(text, user=user, user_team=team, channel=channel, thread_ts=thread_ts)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return body


def click(desk: Desk, action: str, ref: str, **options) -> None:
    payload = desk.driver.block_action(action, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                       message_ts=card_ts(desk, ref), **options)
    assert desk.driver.send_interaction(payload).status == 200
    desk.settle()


@pytest.fixture
def scenario(desk: Desk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
             database_url: str) -> Scenario:
    did, clock, driver = Did(), desk.clock, desk.driver
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))

    chw1 = say(desk, CARD_PAYMENTS, ALICE, CHERWELL, CHERWELL_CHANNEL)["event"]["ts"]
    did.add(ALICE, "CHW-1", "opened", clock.now(), title=CARD_PAYMENTS)

    clock.advance(minutes=5)
    click(desk, Action.CLAIM, "CHW-1", value=TicketRef(ref="CHW-1").dump())
    did.add(ENGINEER, "CHW-1", "assigned", clock.now(), to=ENGINEER)

    clock.advance(minutes=5)
    say(desk, LOGS, ENGINEER, SUPPORT, CHERWELL_CHANNEL, thread_ts=chw1)
    did.add(ENGINEER, "CHW-1", "replied", clock.now(), text=LOGS)
    did.add(ENGINEER, "CHW-1", "status", clock.now(), to="in_progress")  # a first public reply starts work

    clock.advance(minutes=20)
    say(desk, TERMINAL, ALICE, CHERWELL, CHERWELL_CHANNEL, thread_ts=chw1)
    did.add(ALICE, "CHW-1", "commented", clock.now(), text=TERMINAL)

    clock.advance(minutes=5)
    say(desk, FIRMWARE, ENGINEER, SUPPORT, TRIAGE, thread_ts=card_ts(desk, "CHW-1"))  # the card's thread
    did.add(ENGINEER, "CHW-1", "noted", clock.now(), text=FIRMWARE)

    clock.advance(minutes=30)
    click(desk, Action.RESOLVE, "CHW-1", value=TicketRef(ref="CHW-1").dump())
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.RESOLVE
    submit = driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                    private_metadata=modal["private_metadata"],
                                    values={Block.RESOLUTION: {Input.VALUE: FIXED}})
    assert driver.send_interaction(submit).status == 200
    desk.settle()
    did.add(ENGINEER, "CHW-1", "resolved", clock.now(), note=FIXED)

    clock.advance(minutes=10)
    resolution = next(c for c in desk.slack.calls_to("chat.postMessage")
                      if c.args.get("thread_ts") == chw1 and FIXED in json.dumps(c.args))
    buttons = [e for b in resolution.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    four = next(e for e in buttons if e["action_id"].endswith(".4"))
    rate = driver.block_action(four["action_id"], user=ALICE, user_team=CHERWELL, value=four["value"],
                               channel=CHERWELL_CHANNEL, message_ts=resolution.response["ts"])
    assert driver.send_interaction(rate).status == 200
    desk.settle()
    did.add(ALICE, "CHW-1", "rated", clock.now(), score=4, cycle=1)

    clock.advance(minutes=15)
    fife1 = say(desk, DIRECT_DEBIT, BRUCE, FIFE, FIFE_CHANNEL)["event"]["ts"]
    clock.advance(minutes=5)
    click(desk, Action.CLAIM, "FIFE-1", value=TicketRef(ref="FIFE-1").dump())
    did.add(ENGINEER, "FIFE-1", "assigned", clock.now(), to=ENGINEER)
    clock.advance(minutes=5)
    say(desk, BACS, ENGINEER, SUPPORT, FIFE_CHANNEL, thread_ts=fife1)
    did.add(ENGINEER, "FIFE-1", "replied", clock.now(), text=BACS)
    did.add(ENGINEER, "FIFE-1", "status", clock.now(), to="in_progress")

    clock.advance(minutes=30)
    say(desk, REFUNDS, ALICE, CHERWELL, CHERWELL_CHANNEL)
    did.add(ALICE, "CHW-2", "opened", clock.now(), title=REFUNDS)

    clock.advance(days=10)  # the worker's close pass, as it runs once the working days are over
    with unit_of_work(desk.engine) as session:
        tickets.close(session, ref="CHW-1", actor="desk", at=clock.now())

    return Scenario(desk, did, lambda *args: run_desk(capsys, *args))


def export(scenario: Scenario, user: str, tmp_path: Path) -> tuple[dict, Result]:
    out = tmp_path / f"{user}.json"
    result = scenario.cli("privacy", "export", "--user", user, "--out", str(out), "--by", "dpo@cherwell",
                          "--reference", "SAR-2026-014")
    assert result.code == 0, result.err
    return json.loads(out.read_text()), result


def as_done(events: list[dict]) -> list[tuple[str, str, datetime, dict]]:
    """Exported events in the shape `Did` records, keeping only the fields the test set."""
    return [(e["ticket"], e["type"], datetime.fromisoformat(e["at"]), e["data"]) for e in events]


def matches(exported: list[dict], done: list[tuple[str, str, datetime, dict]]) -> None:
    got = as_done(exported)
    assert [(ref, type, at) for ref, type, at, _ in got] == [(ref, type, at) for ref, type, at, _ in done]
    for (ref, type, _, data), (_, _, _, wanted) in zip(got, done, strict=True):
        assert {k: data.get(k) for k in wanted} == wanted, (ref, type, data)


def test_a_council_officers_export_is_everything_they_did_and_nothing_else(scenario: Scenario,
                                                                          tmp_path: Path) -> None:
    document, result = export(scenario, ALICE, tmp_path)
    desk = scenario.desk
    assert document["subject"] == ALICE and document["councils"] == ["cherwell"]
    assert document["support_roles"] == [] and document["tickets_assigned"] == []

    requested = {t["ref"]: t for t in document["tickets_requested"]}
    assert list(requested) == ["CHW-1", "CHW-2"]
    chw1, chw2 = requested["CHW-1"], requested["CHW-2"]
    assert (chw1["title"], chw1["council"], chw1["requester"], chw1["assignee"], chw1["status"]) == (
        CARD_PAYMENTS, "cherwell", ALICE, ENGINEER, "closed")
    opened = {ref: at for ref, type, at, _ in scenario.did.events[ALICE] if type == "opened"}
    assert datetime.fromisoformat(chw1["opened_at"]) == opened["CHW-1"]
    assert datetime.fromisoformat(chw1["closed_at"]) == desk.clock.now() and chw1["redacted_at"] is None
    assert chw1["slack_channel"] == CHERWELL_CHANNEL and chw1["slack_ts"]
    assert (chw2["title"], chw2["status"], chw2["assignee"], chw2["resolved_at"]) == (REFUNDS, "new", None, None)
    assert datetime.fromisoformat(chw2["opened_at"]) == opened["CHW-2"]

    matches(document["events_by_them"], scenario.did.events[ALICE])
    assert {e["actor"] for e in document["events_by_them"]} == {ALICE}
    assert document["events_naming_them"] == []
    rated_at = next(at for _, type, at, _ in scenario.did.events[ALICE] if type == "rated")
    assert document["ratings"] == [{"council": "cherwell", "ticket": "CHW-1", "cycle": 1, "score": 4,
                                    "rated_at": rated_at.isoformat()}]
    assert all(e["type"] != "noted" for e in document["events_by_them"])
    assert "2 ticket(s) requested" in result.err and "recorded on 2 ticket(s)" in result.err

    recorded = audit_records(desk.engine, "privacy_export")
    assert [(e.ticket_ref, e.actor, e.data) for e in recorded] == [
        ("CHW-1", "dpo@cherwell", {"subject": ALICE, "parts": ["events_by_them", "ratings", "tickets_requested"],
                                   "reference": "SAR-2026-014"}),
        ("CHW-2", "dpo@cherwell", {"subject": ALICE, "parts": ["events_by_them", "tickets_requested"],
                                   "reference": "SAR-2026-014"})]
    assert scenario.cli("audit", "verify").code == 0


def test_an_engineers_export_covers_every_council_they_acted_in(scenario: Scenario, tmp_path: Path) -> None:
    document, _ = export(scenario, ENGINEER, tmp_path)
    assert document["councils"] == ["cherwell", "fife"]
    assert document["support_roles"] == ["engineer"]
    assert document["tickets_requested"] == [] and document["ratings"] == []
    assigned = [(t["ref"], t["council"], t["assignee"], t["status"]) for t in document["tickets_assigned"]]
    assert assigned == [("CHW-1", "cherwell", ENGINEER, "closed"), ("FIFE-1", "fife", ENGINEER, "in_progress")]
    assert document["tickets_assigned"][1]["title"] == DIRECT_DEBIT

    matches(document["events_by_them"], scenario.did.events[ENGINEER])
    by_type = {(e["ticket"], e["type"]): e["data"] for e in document["events_by_them"]}
    assert by_type[("CHW-1", "noted")]["text"] == FIRMWARE  # internal notes are theirs: disclosed to them
    assert by_type[("CHW-1", "resolved")]["note"] == FIXED
    assert by_type[("FIFE-1", "replied")]["text"] == BACS
    assert all(e["actor"] == ENGINEER for e in document["events_by_them"])
    assert document["events_naming_them"] == []  # they assigned themselves: those events are theirs

    recorded = audit_records(scenario.desk.engine, "privacy_export")
    assert [(e.council_id, e.ticket_ref) for e in recorded] == [("cherwell", "CHW-1"), ("fife", "FIFE-1")]

    again = scenario.cli("privacy", "export", "--user", ENGINEER)  # to stdout, one JSON document
    assert again.code == 0, again.err
    second = again.json()
    assert {k: v for k, v in second.items() if k not in ("generated_at", "events_naming_them")} == {
        k: v for k, v in document.items() if k not in ("generated_at", "events_naming_them")}
    assert [(e["ticket"], e["type"], e["actor"]) for e in second["events_naming_them"]] == [
        ("CHW-1", "privacy_export", "dpo@cherwell"), ("FIFE-1", "privacy_export", "dpo@cherwell")]
    verified = scenario.cli("audit", "verify", "--json")
    assert verified.code == 0 and all(c["ok"] for c in verified.json()), verified.out


def audit_records(engine: Engine, type: str) -> list[TicketEventRow]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(TicketEventRow).where(TicketEventRow.type == type)
                                 .order_by(TicketEventRow.council_id, TicketEventRow.seq)).all())


def everything_stored(engine: Engine) -> str:
    with engine.connect() as connection:
        return json.dumps([[list(map(str, row)) for row in connection.execute(table.select())]
                           for table in SQLModel.metadata.sorted_tables], ensure_ascii=False)


def test_erasure_removes_their_words_from_closed_tickets_and_the_chain_still_verifies(scenario: Scenario,
                                                                                     tmp_path: Path) -> None:
    engine, cli = scenario.desk.engine, scenario.cli
    before = everything_stored(engine)
    dry = cli("privacy", "redact", "--user", ALICE, "--dry-run", "--json")
    assert dry.code == 0 and dry.json() == {"subject": ALICE, "dry_run": True, "tickets": ["CHW-1"], "events": 2,
                                            "kept_open": ["CHW-2"], "legacy_events_kept": 0,
                                            "inbox_rows": 3}  # her two requests and her comment, as received
    assert everything_stored(engine) == before, "a dry run changes nothing"

    done = cli("privacy", "redact", "--user", ALICE, "--by", "dpo@cherwell")
    assert done.code == 0, done.err
    assert "removed their words from 2 event(s) on 1 closed ticket(s): CHW-1" in done.out
    assert "kept while open (run again once closed): CHW-2" in done.out
    stored = everything_stored(engine)
    for words in (CARD_PAYMENTS, TERMINAL):
        assert words not in stored, words
    for kept in (REFUNDS, LOGS, FIRMWARE, FIXED, DIRECT_DEBIT, BACS):  # others' words, and an open ticket's
        assert kept in stored, kept
    verified = cli("audit", "verify", "--json")
    assert verified.code == 0 and all(c["ok"] for c in verified.json()), verified.out

    document, _ = export(scenario, ALICE, tmp_path)
    chw1 = document["tickets_requested"][0]
    assert (chw1["ref"], chw1["title"], chw1["description"]) == ("CHW-1", "[redacted]", "")
    events = {(e["ticket"], e["type"]): e["data"] for e in document["events_by_them"]}
    assert set(events[("CHW-1", "commented")]["text"]) == {"redacted"}
    assert set(events[("CHW-1", "opened")]["title"]) == {"redacted"}
    assert events[("CHW-1", "rated")]["score"] == 4 and document["ratings"][0]["score"] == 4  # no words: kept
    assert events[("CHW-2", "opened")]["title"] == REFUNDS
    naming = [(e["ticket"], e["type"], e["data"]["subject"]) for e in document["events_naming_them"]]
    assert ("CHW-1", "redacted", ALICE) in naming

    engineer = cli("privacy", "redact", "--user", ENGINEER, "--json")
    assert engineer.code == 0 and engineer.json()["tickets"] == ["CHW-1"]
    # the reply, the note, the resolution, and the status change's reason ("first reply": a sealed field,
    # removed as retention removes it)
    assert engineer.json()["events"] == 4 and engineer.json()["kept_open"] == ["FIFE-1"]
    stored = everything_stored(engine)
    for words in (LOGS, FIRMWARE, FIXED):
        assert words not in stored, words
    assert BACS in stored and DIRECT_DEBIT in stored
    assert cli("audit", "verify").code == 0

    again = cli("privacy", "redact", "--user", ALICE, "--json")
    assert again.json()["tickets"] == [] and again.json()["kept_open"] == ["CHW-2"]  # idempotent


def test_a_malformed_user_id_is_refused_naming_the_option(scenario: Scenario) -> None:
    for command in ("export", "redact"):
        result = scenario.cli("privacy", command, "--user", "alice@cherwell.gov.uk")
        assert result.code == 1 and "--user: 'alice@cherwell.gov.uk' is not a Slack user id" in result.err
    assert audit_records(scenario.desk.engine, "privacy_export") == []
