"""A ticket opened by hand (`desk tickets open`, after a phone call) gets its triage card from the worker,
and, naming who asked or where, a council thread: desk's post in the council's channel, where a public
reply by support meets the respond target like on any other ticket."""

from __future__ import annotations

import json

import pytest
import time_machine

from desk.db import queries
from desk.db.engine import unit_of_work
from tests.cli.runner import run_desk
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import ALICE, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk

FIFE_SECOND_CHANNEL = "C0FIFE0002"


@pytest.fixture
def cli(desk: Desk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))

    def run(*args: str):
        with time_machine.travel(desk.clock.now(), tick=False):
            return run_desk(capsys, *args)

    return run


def posts(desk: Desk, channel: str) -> list:
    return [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == channel]


def test_a_phone_call_ticket_gets_a_card_and_a_council_thread_where_a_reply_meets_respond(desk: Desk, cli) -> None:
    opened = cli("tickets", "open", "--council", "cherwell", "--title", "Refunds <stuck> since Friday",
                 "--requester", ALICE, "--json")
    assert opened.code == 0, opened.err
    assert desk.slack.calls_to("chat.postMessage") == []  # the command line has no Slack client
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 1

    root, confirmation = posts(desk, CHERWELL_CHANNEL)
    assert "CHW-1" in root.args["text"] and "Refunds &lt;stuck&gt; since Friday" in root.args["text"]
    assert confirmation.args["thread_ts"] == root.response["ts"] and "CHW-1" in confirmation.args["text"]
    card = posts(desk, TRIAGE)
    assert len(card) == 1 and "desk.claim" in json.dumps(card[0].args["blocks"])
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
        assert (ticket.slack_channel, ticket.slack_ts, ticket.card_ts) == (
            CHERWELL_CHANNEL, root.response["ts"], card[0].response["ts"])

    desk.clock.advance(minutes=20)
    reply = desk.driver.message("Found it: the refund batch was held, releasing now", user=ENGINEER,
                                user_team=SUPPORT, channel=CHERWELL_CHANNEL, thread_ts=root.response["ts"],
                                shared_channel=True)
    assert desk.driver.send_event(reply).status == 200
    desk.settle()
    shown = cli("tickets", "show", "CHW-1", "--json").json()
    assert [e["type"] for e in shown["events"]][:3] == ["opened", "replied", "status"]
    assert shown["sla"]["respond"]["met_at"] == desk.clock.now().isoformat()


def test_with_a_channel_the_thread_starts_in_that_channel(desk: Desk, cli) -> None:
    assert cli("tickets", "open", "--council", "fife", "--title", "Mandates missing",
               "--channel", FIFE_SECOND_CHANNEL).code == 0
    desk.wiring.worker(channel_pace=0).dispatcher.drain()
    assert len(posts(desk, FIFE_SECOND_CHANNEL)) == 2 and posts(desk, "C0FIFE0001") == []


def test_without_requester_or_channel_only_the_triage_card(desk: Desk, cli) -> None:
    assert cli("tickets", "open", "--council", "cherwell", "--title", "Internal follow-up").code == 0
    desk.wiring.worker(channel_pace=0).dispatcher.drain()
    assert len(posts(desk, TRIAGE)) == 1 and posts(desk, CHERWELL_CHANNEL) == []


def test_a_channel_that_is_not_the_councils_is_refused_and_nothing_is_opened(desk: Desk, cli) -> None:
    result = cli("tickets", "open", "--council", "cherwell", "--title", "x", "--channel", "C0FIFE0001")
    assert result.code == 1 and "C0FIFE0001 is not one of cherwell's channels" in result.err
    with unit_of_work(desk.engine) as session:
        assert queries.list_tickets(session) == []


def test_resolved_from_the_command_line_the_council_reads_the_note_in_its_thread(desk: Desk, cli) -> None:
    request = desk.driver.message("Refunds failing", user=ALICE, user_team="T0CHERWELL", channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(request).status == 200
    desk.settle()
    desk.clock.advance(hours=1)
    resolved = cli("tickets", "resolve", "CHW-1", "--note", "Released the held batch & re-ran it")
    assert resolved.code == 0, resolved.err
    # the note, and desk's :white_check_mark: on the card and the council's message (issue 17's emoji actions)
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 2
    assert {c.args["name"] for c in desk.slack.calls_to("reactions.add")} == {"white_check_mark"}
    note = [c for c in posts(desk, CHERWELL_CHANNEL) if c.args.get("thread_ts") == request["event"]["ts"]][-1]
    assert "Released the held batch &amp; re-ran it" in note.args["text"]
    assert "desk.rate" in json.dumps(note.args["blocks"])
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 0  # once
