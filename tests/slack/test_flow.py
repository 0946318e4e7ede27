"""The life of a request through the running app, over signed HTTP requests and over Socket Mode (the same
scenario and assertions, `either_desk`): message → ticket → thread
confirmation + triage card; claim → public reply → waiting on council → council reply → resolve → rating."""

from __future__ import annotations

import json

from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import TicketRatingRow
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.slack.conftest import (
    ALICE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    SUPPORT,
    TRIAGE,
    Desk,
)


def ticket(desk: Desk, ref: str):
    with unit_of_work(desk.engine) as session:
        found = queries.get_ticket(session, ref)
        events = [e.type for e in queries.list_ticket_events(session, found.id)]
        return found, events


def post_request(desk: Desk, text: str = "We cannot take card payments at the Banbury counter") -> dict:
    body = desk.driver.message(text, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    response = desk.driver.send_event(body)
    assert response.status == 200, response.text
    desk.settle()
    return body


def test_a_council_message_becomes_a_ticket_with_a_thread_reply_and_a_triage_card(either_desk: Desk) -> None:
    desk = either_desk
    body = post_request(desk)
    ts = body["event"]["ts"]
    found, events = ticket(desk, "CHW-1")
    assert (found.priority, found.requester, found.slack_channel, found.slack_ts) == ("P1", ALICE,
                                                                                      CHERWELL_CHANNEL, ts)
    assert events == ["opened"]
    posts = desk.slack.calls_to("chat.postMessage")
    confirmation = next(c for c in posts if c.args.get("thread_ts") == ts)
    assert confirmation.args["channel"] == CHERWELL_CHANNEL
    assert "CHW-1" in confirmation.args["text"]
    card = next(c for c in posts if c.args["channel"] == TRIAGE)
    assert "CHW-1" in json.dumps(card.args["blocks"])
    assert found.card_ts == card.response["ts"] and found.confirmation_ts == confirmation.response["ts"]


def test_the_whole_conversation(either_desk: Desk) -> None:
    desk = either_desk
    body = post_request(desk)
    thread_ts = body["event"]["ts"]
    driver, ref_value = desk.driver, TicketRef(ref="CHW-1").dump()
    found, _ = ticket(desk, "CHW-1")

    desk.clock.advance(minutes=5)
    claim = driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=ref_value,
                                channel=TRIAGE, message_ts=found.card_ts)
    assert driver.send_interaction(claim).status == 200
    desk.settle()
    assert ticket(desk, "CHW-1")[0].assignee == ENGINEER
    assert desk.slack.calls_to("chat.update"), "the card is updated in place"

    desk.clock.advance(minutes=5)
    reply = driver.message("Looking at the card terminal logs now", user=ENGINEER, user_team=SUPPORT,
                           channel=CHERWELL_CHANNEL, thread_ts=thread_ts)
    assert driver.send_event(reply).status == 200
    desk.settle()

    desk.clock.advance(minutes=5)
    waiting = driver.block_action(Action.SET_STATUS, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                  message_ts=found.card_ts,
                                  selected_option={"value": "waiting_on_council",
                                                   "text": {"type": "plain_text", "text": "Waiting on council"}})
    assert driver.send_interaction(waiting).status == 200
    desk.settle()
    # Waiting on the council asks what is needed first (the council is told it in its thread).
    asked = desk.slack.last("views.open").args["view"]
    assert asked["callback_id"] == View.WAITING
    needed = driver.view_submission(View.WAITING, user=ENGINEER, user_team=SUPPORT, view=asked,
                                    values={Block.NEEDED: {Input.VALUE: "Which terminal shows the error?"}})
    assert driver.send_interaction(needed).status == 200
    desk.settle()
    assert ticket(desk, "CHW-1")[0].status == "waiting_on_council"

    desk.clock.advance(hours=1)
    answer = driver.message("Terminal 3 rebooted, still failing", user=ALICE, user_team=CHERWELL,
                            channel=CHERWELL_CHANNEL, thread_ts=thread_ts)
    assert driver.send_event(answer).status == 200
    desk.settle()
    assert ticket(desk, "CHW-1")[0].status == "in_progress"

    desk.clock.advance(minutes=30)
    resolve = driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT, value=ref_value,
                                  channel=TRIAGE, message_ts=found.card_ts)
    assert driver.send_interaction(resolve).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.RESOLVE
    submit = driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                    private_metadata=modal["private_metadata"],
                                    values={Block.RESOLUTION: {Input.VALUE: "Replaced the PIN pad"}})
    assert driver.send_interaction(submit).status == 200
    desk.settle()
    assert ticket(desk, "CHW-1")[0].status == "resolved"
    resolution = [c for c in desk.slack.calls_to("chat.postMessage")
                  if c.args.get("thread_ts") == thread_ts and "Replaced the PIN pad" in json.dumps(c.args)]
    assert len(resolution) == 1
    rate_buttons = [e for b in resolution[0].args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    five = next(e for e in rate_buttons if e["action_id"].endswith(".5"))

    rate = driver.block_action(five["action_id"], user=ALICE, user_team=CHERWELL, value=five["value"],
                               channel=CHERWELL_CHANNEL, message_ts=resolution[0].response["ts"])
    assert driver.send_interaction(rate).status == 200
    assert driver.send_interaction(driver.block_action(five["action_id"], user=ALICE, user_team=CHERWELL,
                                                       value=five["value"], channel=CHERWELL_CHANNEL,
                                                       message_ts=resolution[0].response["ts"])).status == 200
    desk.settle()
    _, events = ticket(desk, "CHW-1")
    assert events == ["opened", "assigned", "replied", "status", "status", "commented", "status", "resolved",
                      "rated"]
    with unit_of_work(desk.engine) as session:
        assert [r.score for r in session.exec(select(TicketRatingRow)).all()] == [5]
