"""Steps the shared-problem Slack tests share: councils raising tickets, an engineer working a problem from
the triage cards and `/desk problem`, and reading back what each channel was sent.

A fourth council (Oxford) is added to the test playbooks here, so the known-problem notice can be shown on
a council that raised nothing before the problem was opened.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.domain.playbook import PlaybookSet
from desk.services import intake, problems
from desk.services.playbook_files import load_directory
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
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

BELFAST, BELFAST_CHANNEL, CAROL = "T0BELFAST1", "C0BELFAST1", "U0CAROL001"
OXFORD, OXFORD_CHANNEL, OLIVE = "T0OXFORD01", "C0OXFORD01", "U0OLIVE001"
OXFORD_COUNCIL = """  - id: oxford
    name: Oxford City Council
    ref_prefix: OXF
    playbook: standard
    slack: {teams: [T0OXFORD01], channels: [C0OXFORD01]}
"""
COUNCILS = {  # council id: (person, their team, their channel, ref prefix, name)
    "cherwell": (ALICE, CHERWELL, CHERWELL_CHANNEL, "CHW", "Cherwell District Council"),
    "fife": (BRUCE, FIFE, FIFE_CHANNEL, "FIFE", "Fife Council"),
    "belfast": (CAROL, BELFAST, BELFAST_CHANNEL, "BCC", "Belfast City Council"),
    "oxford": (OLIVE, OXFORD, OXFORD_CHANNEL, "OXF", "Oxford City Council"),
}
PAY = "We cannot take card payments: GOV.UK Pay is timing out for every resident"


@pytest.fixture
def test_playbooks(tmp_path: Path) -> PlaybookSet:
    """The test playbooks with a fourth council."""
    copy = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, copy)
    councils = copy / "councils.yaml"
    councils.write_text(councils.read_text().replace("support:\n", OXFORD_COUNCIL + "support:\n", 1))
    return load_directory(copy)


def people(desk: Desk) -> None:
    for person, team in ((CAROL, BELFAST), (OLIVE, OXFORD)):
        desk.slack.users[person] = {"id": person, "team_id": team, "name": person.lower(), "real_name": person,
                                    "tz": "Europe/London"}


def send(desk: Desk, body: dict, *, interaction: bool = True) -> None:
    response = desk.driver.send_interaction(body) if interaction else desk.driver.send_event(body)
    assert response.status == 200, response.text
    desk.settle()


def command(desk: Desk, text: str, *, user: str = ENGINEER, team: str = SUPPORT, channel: str = TRIAGE) -> str:
    """Run `/desk TEXT`; what the person was answered (the ephemeral reply), as JSON text."""
    before = len(desk.slack.calls_to("response_url"))
    response = desk.driver.send_form(desk.driver.slash_command(text, user=user, user_team=team, channel=channel))
    assert response.status == 200, response.text
    desk.settle()
    answers = desk.slack.calls_to("response_url")[before:]
    return json.dumps([a.args for a in answers], ensure_ascii=False)


def raise_ticket(desk: Desk, council: str, text: str = PAY) -> tuple[str, str]:
    """A council member's message in their channel: (ticket ref, thread ts)."""
    person, team, channel, _, _ = COUNCILS[council]
    body = desk.driver.message(text, user=person, user_team=team, channel=channel)
    send(desk, body, interaction=False)
    with unit_of_work(desk.engine) as session:
        ticket = intake.find_ticket_for_message(session, channel, body["event"]["ts"])
        assert ticket is not None
        return ticket.ref, body["event"]["ts"]


def card_ts(desk: Desk, ref: str) -> str:
    with unit_of_work(desk.engine) as session:
        ts = queries.get_ticket(session, ref).card_ts
    assert ts
    return ts


def click(desk: Desk, action: str, ref: str, value: str | None = None, *, user: str = ENGINEER,
          team: str = SUPPORT) -> None:
    send(desk, desk.driver.block_action(action, user=user, user_team=team, channel=TRIAGE,
                                        value=value or TicketRef(ref=ref).dump(), message_ts=card_ts(desk, ref)))


def latest(desk: Desk, ts: str) -> dict:
    """A triage-channel message as Slack shows it now: the args of its post, or of its latest update."""
    calls = [c for c in desk.slack.calls if c.ok and c.method in ("chat.postMessage", "chat.update")
             and c.args.get("channel") == TRIAGE and ts in (c.args.get("ts"), c.response.get("ts"))
             and not c.args.get("thread_ts")]
    assert calls, f"no message {ts} in the triage channel"
    return calls[-1].args


def card_actions(desk: Desk, ref: str) -> dict[str, dict]:
    """The buttons on the ticket's card as Slack shows it now."""
    blocks = latest(desk, card_ts(desk, ref))["blocks"]
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def channel_posts(desk: Desk, channel: str) -> list[str]:
    """Everything desk posted or updated in a channel (thread replies too), as text to search."""
    calls = desk.slack.calls_to("chat.postMessage") + desk.slack.calls_to("chat.update")
    return [json.dumps(c.args.get("blocks"), ensure_ascii=False) + (c.args.get("text") or "") for c in calls
            if c.ok and c.args.get("channel") == channel]


def thread_posts(desk: Desk, channel: str, thread_ts: str) -> list[str]:
    return [json.dumps(c.args.get("blocks"), ensure_ascii=False) + (c.args.get("text") or "")
            for c in desk.slack.calls_to("chat.postMessage")
            if c.ok and c.args.get("channel") == channel and c.args.get("thread_ts") == thread_ts]


def problem_message(desk: Desk, problem_id: int = 1) -> str:
    """The problem's own message in the triage channel, as it reads now (its post, then each update)."""
    with unit_of_work(desk.engine) as session:
        problem = problems.get_problem(session, problem_id)
        ts = problem.triage_ts
    assert ts, "the problem's message was posted and recorded"
    shown = latest(desk, ts)
    return json.dumps(shown["blocks"], ensure_ascii=False) + shown["text"]


LINK, UNLINK = Action.LINK_PROBLEM, Action.UNLINK_PROBLEM
