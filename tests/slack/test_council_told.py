"""The council hears, in its ticket's thread, what support changes on the triage card: who is looking after
it (by name), that it waits on them (for what, with the clock paused), a new priority and its due times.
Internal notes and the reasons support records never reach the council. A notice Slack does not take
is posted later by the worker, once."""

from __future__ import annotations

import json

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.sandbox.interactions import static_select_value
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk

ENGINEER2 = "U0ENGINEER2"


def send(desk: Desk, body: dict, interaction: bool = True) -> None:
    response = desk.driver.send_interaction(body) if interaction else desk.driver.send_event(body)
    assert response.status == 200, response.text
    desk.settle()


def told(desk: Desk, thread_ts: str) -> list[str]:
    """What desk posted in the council's thread after its confirmation, as the council reads it."""
    posts = [c for c in desk.slack.calls_to("chat.postMessage")
             if c.ok and c.args["channel"] == CHERWELL_CHANNEL and c.args.get("thread_ts") == thread_ts]
    return [json.dumps(c.args["blocks"]) + c.args["text"] for c in posts[1:]]


def open_request(desk: Desk) -> tuple[str, str]:
    desk.slack.users[ENGINEER] = {**desk.slack.users[ENGINEER],
                                  "profile": {"display_name": "Sam Jones", "real_name": "Samuel Jones"}}
    desk.slack.users[ENGINEER2] = {**desk.slack.users[ENGINEER2],
                                   "profile": {"display_name": "", "real_name": "Priya Shah"}}
    body = desk.driver.message("The direct debit file has not arrived", user=ALICE, user_team=CHERWELL,
                               channel=CHERWELL_CHANNEL)
    send(desk, body, interaction=False)
    with unit_of_work(desk.engine) as session:
        card_ts = queries.get_ticket(session, "CHW-1").card_ts
    assert card_ts
    return body["event"]["ts"], card_ts


def test_the_council_is_told_of_assignment_waiting_and_priority_in_plain_words(desk: Desk) -> None:
    thread_ts, card_ts = open_request(desk)
    driver, value = desk.driver, TicketRef(ref="CHW-1").dump()

    desk.clock.advance(minutes=5)
    send(desk, driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=value, channel=TRIAGE,
                                   message_ts=card_ts))
    said = told(desk, thread_ts)
    assert len(said) == 1 and "Sam Jones is looking after *CHW-1*" in said[0]
    assert ENGINEER not in said[0] and "<@" not in said[0]  # a name, never an id or a mention

    desk.clock.advance(minutes=5)
    send(desk, driver.block_action(Action.SET_STATUS, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                   message_ts=card_ts, selected_option={"value": "waiting_on_council"}))
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.WAITING
    with unit_of_work(desk.engine) as session:
        assert queries.get_ticket(session, "CHW-1").status == "new", "nothing changes until support says what"
    send(desk, driver.view_submission(View.WAITING, user=ENGINEER, user_team=SUPPORT, view=modal, values={
        Block.NEEDED: {Input.VALUE: "<!channel> the file name & the time you uploaded it"}}))
    said = told(desk, thread_ts)
    assert len(said) == 2
    assert "*CHW-1* is waiting on you" in said[1] and "paused" in said[1]
    assert "&lt;!channel&gt; the file name &amp; the time you uploaded it" in said[1]
    assert "<!channel>" not in said[1]

    # An internal note on the card never reaches the council.
    send(desk, driver.message("Internal: their bank rejected the file, do not say yet", user=ENGINEER,
                              user_team=SUPPORT, channel=TRIAGE, thread_ts=card_ts, shared_channel=False),
         interaction=False)

    desk.clock.advance(minutes=10)  # 09:20: 20 working minutes of P3's 4h respond used
    send(desk, driver.block_action(Action.CHANGE_PRIORITY, user=ENGINEER, user_team=SUPPORT, value=value,
                                   channel=TRIAGE, message_ts=card_ts))
    modal = desk.slack.last("views.open").args["view"]
    send(desk, driver.view_submission(View.PRIORITY, user=ENGINEER, user_team=SUPPORT, view=modal, values={
        Block.PRIORITY: {Input.VALUE: static_select_value("P1")},
        Block.REASON: {Input.VALUE: "Vendor outage suspected (internal)"}}))
    said = told(desk, thread_ts)
    assert len(said) == 3
    assert "*CHW-1* is now P1 Critical (was P3 Medium)" in said[2]
    assert "We'll respond by Mon 5 Jan 09:30" in said[2]  # P1: 30m on 24x7, 20m of it used
    assert "paused while we wait for you" in said[2]

    send(desk, driver.block_action(Action.ASSIGN, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                   message_ts=card_ts, block_id=value, selected_user=ENGINEER2))
    said = told(desk, thread_ts)
    assert len(said) == 4 and "Priya Shah is looking after *CHW-1*" in said[3]

    everything = " ".join(said)
    assert "Internal" not in everything and "internal" not in everything and "bank rejected" not in everything

    # Council replies: back in progress (the council sees that happen: no notice), and nothing left unsent.
    send(desk, driver.message("It was DD-0412.txt at 08:50", user=ALICE, user_team=CHERWELL,
                              channel=CHERWELL_CHANNEL, thread_ts=thread_ts), interaction=False)
    assert len(told(desk, thread_ts)) == 4
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == 0


def test_a_notice_slack_refuses_is_posted_by_the_worker_once(desk: Desk) -> None:
    thread_ts, card_ts = open_request(desk)
    desk.slack.inject("chat.postMessage", error="internal_error")  # the notice's post
    send(desk, desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT,
                                        value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE,
                                        message_ts=card_ts))
    assert told(desk, thread_ts) == []
    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.advance(minutes=1)  # past the dispatcher's backoff
    assert worker.dispatcher.drain().sent == 1
    said = told(desk, thread_ts)
    assert len(said) == 1 and "Sam Jones is looking after" in said[0]
    desk.clock.advance(minutes=5)
    assert worker.dispatcher.drain().sent == 0
    assert len(told(desk, thread_ts)) == 1
