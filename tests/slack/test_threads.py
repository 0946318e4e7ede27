"""Where a ticket's conversation lives: a request made from a thread reply lives in that reply's thread
(its parent's `ts`), so the thread's later messages reach it; `/desk` typed in a council's second channel
starts the ticket's thread in that channel."""

from __future__ import annotations

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.slack.ids import TICKET_REACTION, Block, Input, Shortcut, View
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    FIFE_CHANNEL,
    SUPPORT,
    Desk,
)

FIFE_SECOND_CHANNEL = "C0FIFE0002"


def send(desk: Desk, body: dict) -> None:
    assert desk.driver.send_event(body).status == 200
    desk.settle()


def a_thread_started_by_support(desk: Desk) -> tuple[str, dict]:
    """An engineer's top-level post in Cherwell's channel (no ticket: support does not raise tickets) and
    Alice's reply in its thread."""
    parent = desk.driver.message("Heads up: the card provider has maintenance tonight", user=ENGINEER,
                                 user_team=SUPPORT, channel=CHERWELL_CHANNEL, shared_channel=True)
    desk.slack.add_message(parent)
    send(desk, parent)
    parent_ts = parent["event"]["ts"]
    reply = desk.driver.message("Our direct debit run failed after it", user=ALICE, user_team=CHERWELL,
                                channel=CHERWELL_CHANNEL, thread_ts=parent_ts)
    desk.slack.add_message(reply)
    send(desk, reply)
    return parent_ts, reply


def thread_of(desk: Desk, ref: str) -> tuple[str | None, str | None, list[str]]:
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, ref)
        events = [e.type for e in queries.list_ticket_events(session, ticket.id)]
        return ticket.slack_channel, ticket.slack_ts, events


def test_a_ticket_reaction_on_a_reply_opens_a_ticket_in_the_parent_thread(desk: Desk) -> None:
    parent_ts, reply = a_thread_started_by_support(desk)
    with unit_of_work(desk.engine) as session:
        assert queries.list_tickets(session) == []
    send(desk, desk.driver.reaction_added(TICKET_REACTION, user=ALICE, user_team=CHERWELL,
                                          channel=CHERWELL_CHANNEL, item_ts=reply["event"]["ts"],
                                          item_user=ALICE))
    assert thread_of(desk, "CHW-1")[:2] == (CHERWELL_CHANNEL, parent_ts)
    confirmation = [c for c in desk.slack.calls_to("chat.postMessage") if "CHW-1" in c.args["text"]
                    and c.args["channel"] == CHERWELL_CHANNEL]
    assert [c.args.get("thread_ts") for c in confirmation] == [parent_ts]

    later = desk.driver.message("It is the Barclays file", user=ALICE, user_team=CHERWELL,
                                channel=CHERWELL_CHANNEL, thread_ts=parent_ts)
    send(desk, later)
    assert thread_of(desk, "CHW-1")[2] == ["opened", "commented"]

    # A second :ticket: anywhere in that thread is the same conversation: no second ticket.
    send(desk, desk.driver.reaction_added(TICKET_REACTION, user=ALICE, user_team=CHERWELL,
                                          channel=CHERWELL_CHANNEL, item_ts=reply["event"]["ts"],
                                          item_user=ALICE))
    with unit_of_work(desk.engine) as session:
        assert [t.ref for t in queries.list_tickets(session)] == ["CHW-1"]


def test_the_message_shortcut_on_a_reply_opens_a_ticket_in_the_parent_thread(desk: Desk) -> None:
    parent_ts, reply = a_thread_started_by_support(desk)
    shortcut = desk.driver.message_shortcut(Shortcut.FROM_MESSAGE, user=ALICE, user_team=CHERWELL,
                                            channel=CHERWELL_CHANNEL, message=reply["event"])
    assert desk.driver.send_interaction(shortcut).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    submit = desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, view=modal,
                                         values={Block.TITLE: {Input.VALUE: "Direct debit run failed"}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    assert thread_of(desk, "CHW-1")[:2] == (CHERWELL_CHANNEL, parent_ts)
    send(desk, desk.driver.message("Any news?", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                   thread_ts=parent_ts))
    assert thread_of(desk, "CHW-1")[2] == ["opened", "commented"]


def test_desk_typed_in_a_councils_second_channel_confirms_there(desk: Desk) -> None:
    command = desk.driver.slash_command("", user=BRUCE, user_team=FIFE, channel=FIFE_SECOND_CHANNEL)
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    submit = desk.driver.view_submission(View.INTAKE, user=BRUCE, user_team=FIFE, view=modal,
                                         values={Block.TITLE: {Input.VALUE: "Mandates not importing"}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    channel, ts, _ = thread_of(desk, "FIFE-1")
    assert channel == FIFE_SECOND_CHANNEL and ts is not None
    council_posts = [c for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] in
                     (FIFE_CHANNEL, FIFE_SECOND_CHANNEL)]
    assert [c.args["channel"] for c in council_posts] == [FIFE_SECOND_CHANNEL, FIFE_SECOND_CHANNEL]
    assert council_posts[1].args["thread_ts"] == ts  # the confirmation, under desk's post for the ticket


def test_desk_typed_outside_the_councils_channels_starts_the_thread_in_its_first(desk: Desk) -> None:
    command = desk.driver.slash_command("", user=BRUCE, user_team=FIFE, channel="D0BRUCEDM1")
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    submit = desk.driver.view_submission(View.INTAKE, user=BRUCE, user_team=FIFE, view=modal,
                                         values={Block.TITLE: {Input.VALUE: "Mandates not importing"}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    assert thread_of(desk, "FIFE-1")[0] == FIFE_CHANNEL
