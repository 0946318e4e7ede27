"""Saved replies through signed requests: the card's "Reply with…" menu, the modal filled in for editing,
the edited reply posted in the council's thread as the support team's public reply (respond met), once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import inbox, playbooks
from desk.services.playbook_files import load_directory
from desk.services.read_models import summarize
from desk.slack.ids import Action, Block, Input, View
from desk.slack.receipt import receipt_of
from tests.conftest import SYNCED_AT, TEST_PLAYBOOKS
from tests.slack.conftest import (
    ALICE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    MALLORY,
    OUTSIDE,
    SUPPORT,
    TRIAGE,
    Desk,
)

REPLIES = Path(__file__).resolve().parents[1] / "fixtures" / "replies" / "replies.yaml"


@pytest.fixture
def with_replies(desk: Desk, tmp_path: Path) -> Desk:
    """The test playbooks plus tests/fixtures/replies/replies.yaml, synced the way `desk playbooks sync` does."""
    directory = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    shutil.copy(REPLIES, directory / "replies.yaml")
    with unit_of_work(desk.engine) as session:
        report = playbooks.sync(session, load_directory(directory), at=SYNCED_AT)
    assert report.replies.new_versions == {"looking-into-it": 1, "need-export": 1}
    return desk


def open_ticket(desk: Desk, text: str = "The direct debit run for Banbury did not go to Bacs") -> tuple[str, str]:
    body = desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    with unit_of_work(desk.engine) as session:
        return body["event"]["ts"], queries.get_ticket(session, "CHW-1").card_ts


def card_menu(desk: Desk) -> dict:
    card = [c for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE][-1]
    elements = [e for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return next(e for e in elements if e["action_id"] == Action.REPLY_WITH)


def choose(desk: Desk, card_ts: str, reply_id: str, *, user: str = ENGINEER, team: str = SUPPORT):
    option = {"value": reply_id, "text": {"type": "plain_text", "text": reply_id}}
    action = desk.driver.block_action(Action.REPLY_WITH, user=user, user_team=team, channel=TRIAGE,
                                      message_ts=card_ts, selected_option=option)
    assert desk.driver.send_interaction(action).status == 200
    desk.settle()


def test_a_saved_reply_is_filled_in_edited_and_posted_as_the_public_reply(with_replies: Desk) -> None:
    desk = with_replies
    desk.slack.users[ALICE]["name"], desk.slack.users[ENGINEER]["name"] = "Alice Hart", "Sam Okafor"
    thread_ts, card_ts = open_ticket(desk)
    menu = card_menu(desk)
    assert [o["value"] for o in menu["options"]] == ["looking-into-it", "need-export"]

    desk.clock.advance(minutes=10)
    choose(desk, card_ts, "looking-into-it")
    modal = desk.slack.last("views.open").response["view"]
    assert modal["callback_id"] == View.SAVED_REPLY
    redrawn = desk.slack.last("chat.update").args  # the menu is fresh again (Slack keeps a select's choice)
    assert redrawn["ts"] == card_ts and "initial_option" not in json.dumps(
        [e for b in redrawn["blocks"] if b["type"] == "actions" for e in b["elements"]
         if e["action_id"] == Action.REPLY_WITH])
    filled = next(b for b in modal["blocks"] if b.get("block_id") == Block.REPLY)["element"]["initial_value"]
    # every placeholder filled: names from Slack, the council's calendar (Mon 5 Jan 2026 -> Tue 6 Jan)
    assert filled.startswith("Hello Alice Hart, I'm Sam Okafor and I'm looking into CHW-1 for Cherwell District Council")
    assert "It is P3 Medium: we aim to respond within 4 working hours and resolve within 24 working hours" in filled
    assert "Next update by Tuesday 6 January." in filled
    assert "{{" not in filled

    edited = filled + "\nWe will re-run the file tonight."
    submit = desk.driver.view_submission(View.SAVED_REPLY, user=ENGINEER, user_team=SUPPORT, view=modal,
                                         values={Block.REPLY: {Input.VALUE: edited}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    again = desk.driver.view_submission(View.SAVED_REPLY, user=ENGINEER, user_team=SUPPORT, view=modal,
                                        values={Block.REPLY: {Input.VALUE: edited}})
    assert desk.driver.send_interaction(again).status == 200  # a double submit: one reply
    desk.settle()

    posted = [c for c in desk.slack.calls_to("chat.postMessage")
              if c.args.get("thread_ts") == thread_ts and "re-run the file tonight" in json.dumps(c.args)]
    assert len(posted) == 1
    assert posted[0].args["channel"] == CHERWELL_CHANNEL
    assert "Sam Okafor, support team" in json.dumps(posted[0].args["blocks"])
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
        replied = [e for e in queries.list_ticket_events(session, ticket.id) if e.type == "replied"]
        t = summarize(session, ticket, desk.clock.now())
    assert len(replied) == 1
    assert replied[0].actor == ENGINEER and replied[0].data["text"] == edited
    assert replied[0].data["saved_reply"] == {"id": "looking-into-it", "version": 1}
    assert t.respond.stopped_at == desk.clock.now() and not t.respond.breached  # respond met
    assert t.status == "in_progress"


def test_values_are_escaped_where_they_reach_mrkdwn(with_replies: Desk) -> None:
    desk = with_replies
    desk.slack.users[ALICE]["name"] = "<!channel> & co"
    thread_ts, card_ts = open_ticket(desk)
    choose(desk, card_ts, "looking-into-it")
    modal = desk.slack.last("views.open").response["view"]
    text = next(b for b in modal["blocks"] if b.get("block_id") == Block.REPLY)["element"]["initial_value"]
    assert text.startswith("Hello <!channel> & co,")  # a text box shows it as written
    submit = desk.driver.view_submission(View.SAVED_REPLY, user=ENGINEER, user_team=SUPPORT, view=modal,
                                         values={Block.REPLY: {Input.VALUE: text}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    posted = desk.slack.last("chat.postMessage")
    assert posted.args["thread_ts"] == thread_ts
    assert "<!channel>" not in json.dumps(posted.args) and "&lt;!channel&gt; &amp; co" in posted.args["text"]


@pytest.mark.parametrize(("user", "team"), [(ALICE, CHERWELL), (MALLORY, OUTSIDE), ("U0CLERK001", SUPPORT)])
def test_only_the_support_team_may_use_a_saved_reply(with_replies: Desk, user: str, team: str) -> None:
    desk = with_replies
    desk.slack.users["U0CLERK001"] = {"id": "U0CLERK001", "team_id": SUPPORT, "name": "clerk",
                                      "real_name": "Clerk", "tz": "Europe/London"}
    _, card_ts = open_ticket(desk)
    desk.slack.reset()
    choose(desk, card_ts, "looking-into-it", user=user, team=team)
    assert desk.slack.calls_to("views.open") == []
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
        assert [e.type for e in queries.list_ticket_events(session, ticket.id)] == ["opened"]


def test_without_replies_the_card_has_no_menu(desk: Desk) -> None:
    open_ticket(desk)
    card = [c for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE][-1]
    assert Action.REPLY_WITH not in json.dumps(card.args["blocks"])


def test_a_sent_reply_left_by_a_dead_process_is_posted_once_by_the_worker(with_replies: Desk) -> None:
    """The submission is kept before the ack (desk/slack/receipt.py): a process that died after acking it
    leaves it to the worker's inbox pass, which records and posts the reply once."""
    desk = with_replies
    thread_ts, card_ts = open_ticket(desk)
    choose(desk, card_ts, "need-export")
    modal = desk.slack.last("views.open").response["view"]
    submit = desk.driver.view_submission(View.SAVED_REPLY, user=ENGINEER, user_team=SUPPORT, view=modal,
                                         values={Block.REPLY: {Input.VALUE: "Please attach the export for CHW-1."}})
    found = receipt_of(submit)
    assert found is not None and found[0] == View.SAVED_REPLY
    assert inbox.store(desk.engine, kind=found[0], key=found[1], payload=json.dumps(submit), at=desk.clock.now(),
                       lease=desk.wiring.receipts.lease, within=1.0)
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    worker = desk.wiring.worker(enqueue_digests=None)
    assert worker.inbox() == 1
    assert worker.inbox() == 0
    posted = [c for c in desk.slack.calls_to("chat.postMessage")
              if c.args.get("thread_ts") == thread_ts and "Please attach the export" in c.args["text"]]
    assert len(posted) == 1
