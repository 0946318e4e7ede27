"""The duty rota through the real app: an escalation that fires after Monday's handover reaches the new
duty lead by DM (not the one on duty when it was scheduled), and new council requests are assigned round
robin among the engineers on duty, skipping one on leave, each `assigned` event naming the rule that chose
it, and the council told in its thread."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.domain.playbook import PlaybookSet
from desk.services import audit
from desk.services.playbook_files import load_directory
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    FIFE,
    FIFE_CHANNEL,
    MONDAY,
    SUPPORT,
    Desk,
)

ENGINEER1, ENGINEER2, DUTY_LEAD = "U0ENGINEER1", "U0ENGINEER2", "U0DUTYLEAD"
ROTA = f"""\
  rota:
    calendar: standard
    weeks:
      - {{week: 2026-01-05, duty_lead: {ENGINEER1}, engineers: [{ENGINEER1}, {ENGINEER2}, {DUTY_LEAD}]}}
      - {{week: 2026-01-12, duty_lead: {ENGINEER2}, engineers: [{ENGINEER2}, {ENGINEER1}]}}
    leave:
      - {{person: {ENGINEER2}, from: 2026-01-05, to: 2026-01-05}}
    routing:
      - {{id: cherwell-round-robin, councils: [cherwell]}}
"""


@pytest.fixture
def test_playbooks(tmp_path: Path) -> PlaybookSet:
    """The test playbooks, with a duty rota and a routing rule for Cherwell."""
    directory = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    registry = directory / "councils.yaml"
    registry.write_text(registry.read_text() + ROTA)
    standard = directory / "standard.yaml"  # the respond warning goes to the duty lead too
    warning = "{metric: respond, at: 75, notify: [triage]}"
    assert warning in standard.read_text()
    standard.write_text(standard.read_text().replace(warning, "{metric: respond, at: 75, notify: [triage, duty_lead]}"))
    return load_directory(directory)


def dms(desk: Desk, to: str) -> list:
    return [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == to]


def raise_request(desk: Desk, text: str, *, user: str = ALICE, team: str = CHERWELL,
                  channel: str = CHERWELL_CHANNEL) -> dict:
    body = desk.driver.message(text, user=user, user_team=team, channel=channel)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return body


def test_an_escalation_after_the_monday_handover_reaches_the_new_duty_lead(desk: Desk) -> None:
    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.at = MONDAY + timedelta(days=7, minutes=-20)  # Monday 12 January 08:40: before opening
    raise_request(desk, "We cannot take card payments anywhere")  # P1: respond in 30m, 24x7
    desk.slack.reset()

    desk.clock.at = MONDAY + timedelta(days=7, minutes=-1)  # 08:59: ENGINEER1's week still
    worker.run_once()
    assert dms(desk, ENGINEER1) == dms(desk, ENGINEER2) == []

    desk.clock.at = MONDAY + timedelta(days=7, minutes=10)  # 09:10: the breach, after the 09:00 handover
    worker.run_once()
    to_new_lead = dms(desk, ENGINEER2)
    assert len(to_new_lead) == 1 and "CHW-1" in to_new_lead[0].args["text"]
    assert "breached" in to_new_lead[0].args["text"]
    assert dms(desk, ENGINEER1) == [] and dms(desk, DUTY_LEAD) == []  # neither last week's nor the registry's
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
        escalated = queries.list_ticket_events(session, ticket.id, ("escalated",))
        targets = session.exec(select(OutboxRow.target).where(OutboxRow.kind == "escalation")).all()
    assert len(escalated) == 1 and escalated[0].data["notify"] == ["duty_lead"]
    assert targets == [ENGINEER2]


def test_a_warning_swept_at_the_weekend_waits_for_monday_and_reaches_the_new_duty_lead(desk: Desk) -> None:
    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.at = MONDAY + timedelta(days=4, hours=4)  # Friday 9 January 13:00, ENGINEER1's week
    raise_request(desk, "The direct debit file has not arrived")  # P3: respond in 4 working hours: 75 % at
    # 16:00 on Friday, the breach at 09:30 on Monday (Friday closes at 16:30)
    desk.slack.reset()

    desk.clock.at = MONDAY + timedelta(days=5, hours=1)  # Saturday 10:00: the worker was down until now
    worker.run_once()
    assert dms(desk, ENGINEER1) == dms(desk, ENGINEER2) == []  # held for the working day
    with unit_of_work(desk.engine) as session:
        held = session.exec(select(OutboxRow).where(OutboxRow.kind == "escalation",
                                                    OutboxRow.target != "triage")).all()
    assert [(row.target, row.available_at) for row in held] == [(ENGINEER2, MONDAY + timedelta(days=7))]

    desk.clock.at = MONDAY + timedelta(days=7)  # Monday 12 January 09:00: handed over, and released
    worker.run_once()
    assert len(dms(desk, ENGINEER2)) == 1 and dms(desk, ENGINEER1) == []


def test_requests_are_assigned_round_robin_skipping_leave_and_the_rule_is_recorded(desk: Desk) -> None:
    worker = desk.wiring.worker(channel_pace=0)
    bodies = []
    for minutes in (60, 61, 62):  # Monday 5 January, 10:00: ENGINEER2 is on leave today
        desk.clock.at = MONDAY + timedelta(minutes=minutes)
        bodies.append(raise_request(desk, f"The income report is wrong ({minutes})"))
    desk.clock.at = MONDAY + timedelta(days=1, hours=1)  # Tuesday: ENGINEER2 is back
    bodies.append(raise_request(desk, "The direct debit file has not arrived"))
    raise_request(desk, "Fife's file is late too", user=BRUCE, team=FIFE, channel=FIFE_CHANNEL)  # no rule

    with unit_of_work(desk.engine) as session:
        assignees = [queries.get_ticket(session, f"CHW-{n}").assignee for n in (1, 2, 3, 4)]
        fife = queries.get_ticket(session, "FIFE-1")
        first = queries.get_ticket(session, "CHW-1")
        assigned = queries.list_ticket_events(session, first.id, ("assigned",))
        chains = audit.verify_all(session, "cherwell")
    assert assignees == [ENGINEER1, DUTY_LEAD, ENGINEER1, ENGINEER2]
    assert fife.assignee is None
    assert len(assigned) == 1
    event = assigned[0]
    assert (event.actor, event.data["to"]) == ("desk", ENGINEER1)
    assert event.data["chosen_by"] == {"rule": "cherwell-round-robin", "assign": "round-robin",
                                       "rota": "weeks[0]", "skipped_on_leave": [ENGINEER2]}
    assert all(report.ok for report in chains), chains

    worker.run_once()  # the council hears who is looking after it, as for any assignment
    thread = [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == CHERWELL_CHANNEL
              and c.args.get("thread_ts") == bodies[0]["event"]["ts"]]
    assert any("is looking after *CHW-1*" in json.dumps(c.args.get("blocks")) + c.args["text"] for c in thread), \
        [c.args["text"] for c in thread]


def test_app_home_shows_support_who_is_duty_lead_and_the_next_handover(desk: Desk) -> None:
    desk.clock.at = MONDAY + timedelta(days=7, minutes=-30)  # Monday 12 January 08:30: last week's lead
    assert desk.driver.send_event(desk.driver.app_home_opened(user=ENGINEER1, user_team=SUPPORT)).status == 200
    desk.settle()
    said = json.dumps(desk.slack.last("views.publish").args["view"]["blocks"], ensure_ascii=False)
    assert f"Duty lead: <@{ENGINEER1}> · next handover Mon 12 Jan 09:00" in said
    desk.clock.at = MONDAY + timedelta(days=7)  # 09:00: handed over
    assert desk.driver.send_event(desk.driver.app_home_opened(user=ENGINEER1, user_team=SUPPORT)).status == 200
    desk.settle()
    said = json.dumps(desk.slack.last("views.publish").args["view"]["blocks"], ensure_ascii=False)
    assert f"Duty lead: <@{ENGINEER2}> · next handover Mon 19 Jan 09:00" in said
