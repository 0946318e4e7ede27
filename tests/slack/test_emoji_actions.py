"""Emoji actions through signed requests: an engineer's :eyes:, :white_check_mark: and :rotating_light:
on a ticket's card or on the council's message claim, resolve and raise it; the same reactions from a
council member, from someone in the support workspace who is not on the team, or on another message do
nothing. Changed from the card instead, desk adds the matching reaction itself."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.sandbox.interactions import static_select_value
from desk.services import inbox
from desk.services.emoji_actions import DEFAULT_NOTE, RAISED_REASON
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from desk.slack.receipt import receipt_of
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SUPPORT, TRIAGE, Desk

CLERK = "U0CLERK001"  # in the support team's workspace, not on the support team


@pytest.fixture
def ticket(desk: Desk) -> dict[str, str]:
    desk.slack.users[CLERK] = {"id": CLERK, "team_id": SUPPORT, "name": "clerk", "real_name": "Clerk",
                               "tz": "Europe/London"}
    body = desk.driver.message("Residents cannot set up a direct debit online", user=ALICE, user_team=CHERWELL,
                               channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    with unit_of_work(desk.engine) as session:
        found = queries.get_ticket(session, "CHW-1")
    assert found.priority != "P1"
    desk.slack.reset()
    return {"message": body["event"]["ts"], "card": found.card_ts}


def react(desk: Desk, name: str, *, user: str, team: str, channel: str, ts: str, author: str) -> None:
    body = desk.driver.reaction_added(name, user=user, user_team=team, channel=channel, item_ts=ts,
                                      item_user=author)
    assert desk.driver.send_event(body).status == 200
    desk.settle()


def on_card(desk: Desk, ticket: dict[str, str], name: str, user: str = ENGINEER, team: str = SUPPORT) -> None:
    react(desk, name, user=user, team=team, channel=TRIAGE, ts=ticket["card"], author="UDESKBOT")


def on_message(desk: Desk, ticket: dict[str, str], name: str, user: str = ENGINEER, team: str = SUPPORT) -> None:
    react(desk, name, user=user, team=team, channel=CHERWELL_CHANNEL, ts=ticket["message"], author=ALICE)


def state(desk: Desk):
    with unit_of_work(desk.engine) as session:
        found = queries.get_ticket(session, "CHW-1")
        return found, [(e.type, e.data) for e in queries.list_ticket_events(session, found.id)]


def desks_reactions(desk: Desk) -> set[tuple[str, str, str]]:
    return {(c.args["channel"], c.args["timestamp"], c.args["name"]) for c in desk.slack.calls_to("reactions.add")}


@pytest.mark.parametrize("where", [on_card, on_message])
def test_eyes_claims(desk: Desk, ticket: dict[str, str], where) -> None:
    where(desk, ticket, "eyes")
    found, events = state(desk)
    assert found.assignee == ENGINEER
    assert events[-1] == ("assigned", {"from": None, "to": ENGINEER, "via": "reaction"})
    assert desk.slack.calls_to("chat.update"), "the card shows who has it"
    assert desks_reactions(desk) == set(), "the engineer's own reaction already shows it"


@pytest.mark.parametrize("where", [on_card, on_message])
def test_white_check_mark_resolves_with_the_default_note(desk: Desk, ticket: dict[str, str], where) -> None:
    where(desk, ticket, "white_check_mark")
    found, events = state(desk)
    assert found.status == "resolved"
    assert events[-1][0] == "resolved" and events[-1][1]["note"] == DEFAULT_NOTE
    told = [c for c in desk.slack.calls_to("chat.postMessage") if c.args.get("thread_ts") == ticket["message"]]
    assert len(told) == 1 and "Resolved by the support team" in told[0].args["text"]


@pytest.mark.parametrize("where", [on_card, on_message])
def test_rotating_light_raises_to_the_top_priority(desk: Desk, ticket: dict[str, str], where) -> None:
    where(desk, ticket, "rotating_light")
    found, events = state(desk)
    assert found.priority == "P1"
    assert events[-1][0] == "priority"
    assert (events[-1][1]["to"], events[-1][1]["reason"], events[-1][1]["via"]) == ("P1", RAISED_REASON, "reaction")
    where(desk, ticket, "rotating_light")  # already at the top: nothing more
    assert len(state(desk)[1]) == len(events)


@pytest.mark.parametrize(("user", "team"), [(ALICE, CHERWELL), (CLERK, SUPPORT)])
@pytest.mark.parametrize("name", ["eyes", "white_check_mark", "rotating_light"])
def test_anyone_but_the_support_team_changes_nothing(desk: Desk, ticket: dict[str, str], user: str, team: str,
                                                     name: str) -> None:
    before = state(desk)
    on_message(desk, ticket, name, user=user, team=team)
    on_card(desk, ticket, name, user=user, team=team)
    after = state(desk)
    assert (after[0].status, after[0].assignee, after[0].priority, after[1]) == \
        (before[0].status, before[0].assignee, before[0].priority, before[1])
    assert desk.slack.calls_to("chat.postMessage") == [] and desk.slack.calls_to("chat.postEphemeral") == []


def test_a_reaction_on_another_message_or_redelivered_does_nothing_more(desk: Desk, ticket: dict[str, str]) -> None:
    react(desk, "eyes", user=ENGINEER, team=SUPPORT, channel=CHERWELL_CHANNEL, ts="1700000000.000100", author=ALICE)
    assert state(desk)[0].assignee is None
    body = desk.driver.reaction_added("white_check_mark", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                      item_ts=ticket["card"], item_user="UDESKBOT")
    first = desk.driver.send_event(body)
    assert first.status == 200
    desk.settle()
    assert desk.driver.redeliver(first).status == 200
    desk.settle()
    assert [t for t, _ in state(desk)[1]].count("resolved") == 1


def test_changed_from_the_card_desk_adds_the_matching_reactions(desk: Desk, ticket: dict[str, str]) -> None:
    driver, value = desk.driver, TicketRef(ref="CHW-1").dump()
    claim = driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=value, channel=TRIAGE,
                                message_ts=ticket["card"])
    assert driver.send_interaction(claim).status == 200
    desk.settle()
    assert desks_reactions(desk) == {(TRIAGE, ticket["card"], "eyes"), (CHERWELL_CHANNEL, ticket["message"], "eyes")}
    # handed to another engineer: :eyes: again, which Slack answers `already_reacted`: that is success
    assign = driver.block_action(Action.ASSIGN, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                 message_ts=ticket["card"],
                                 selected_option={"value": "U0ENGINEER2", "text": {"type": "plain_text", "text": "Two"}})
    assert driver.send_interaction(assign).status == 200
    desk.settle()
    assert state(desk)[0].assignee == "U0ENGINEER2"
    assert [c.response.get("error") for c in desk.slack.calls_to("reactions.add")][-2:] == ["already_reacted"] * 2

    opened = driver.block_action(Action.CHANGE_PRIORITY, user=ENGINEER, user_team=SUPPORT, value=value,
                                 channel=TRIAGE, message_ts=ticket["card"])
    assert driver.send_interaction(opened).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").response["view"]
    raise_ = driver.view_submission(View.PRIORITY, user=ENGINEER, user_team=SUPPORT, view=modal,
                                    values={Block.PRIORITY: {Input.VALUE: static_select_value("P1")},
                                            Block.REASON: {Input.VALUE: "every counter is affected"}})
    assert driver.send_interaction(raise_).status == 200
    desk.settle()
    assert (TRIAGE, ticket["card"], "rotating_light") in desks_reactions(desk)

    resolve = driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT, value=value, channel=TRIAGE,
                                  message_ts=ticket["card"])
    assert driver.send_interaction(resolve).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").response["view"]
    done = driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT, view=modal,
                                  values={Block.RESOLUTION: {Input.VALUE: "Re-enabled the online mandate form"}})
    assert driver.send_interaction(done).status == 200
    desk.settle()
    assert {(TRIAGE, ticket["card"], "white_check_mark"),
            (CHERWELL_CHANNEL, ticket["message"], "white_check_mark")} <= desks_reactions(desk)
    with unit_of_work(desk.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.kind == "reaction")).all()
    assert sorted(r.payload["name"] for r in rows) == ["eyes", "eyes", "rotating_light", "white_check_mark"]
    assert {r.status for r in rows} == {"sent"}
    assert "Re-enabled" in json.dumps([c.args for c in desk.slack.calls_to("chat.postMessage")])


def test_the_default_note_is_edited_from_the_card(desk: Desk, ticket: dict[str, str]) -> None:
    on_message(desk, ticket, "white_check_mark")
    found, _ = state(desk)
    card = desk.slack.last("chat.update").args  # the card, now resolved
    buttons = {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    edit = buttons[Action.EDIT_RESOLUTION]
    click = desk.driver.block_action(Action.EDIT_RESOLUTION, user=ENGINEER, user_team=SUPPORT, value=edit["value"],
                                     channel=TRIAGE, message_ts=ticket["card"])
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").response["view"]
    shown = next(b for b in modal["blocks"] if b.get("block_id") == Block.RESOLUTION)["element"]["initial_value"]
    assert shown == DEFAULT_NOTE
    save = desk.driver.view_submission(View.EDIT_RESOLUTION, user=ENGINEER, user_team=SUPPORT, view=modal,
                                       values={Block.RESOLUTION: {Input.VALUE: "Re-enabled the mandate form"}})
    assert desk.driver.send_interaction(save).status == 200
    desk.settle()
    _, events = state(desk)
    assert events[-1] == ("resolution_edited", {"note": "Re-enabled the mandate form", "previous": DEFAULT_NOTE})
    updated = [c for c in desk.slack.calls_to("chat.update") if c.args["ts"] == found.resolution_ts]
    assert updated and "Re-enabled the mandate form" in updated[-1].args["text"]
    # a council member cannot
    desk.slack.reset()
    click = desk.driver.block_action(Action.EDIT_RESOLUTION, user=ALICE, user_team=CHERWELL, value=edit["value"],
                                     channel=TRIAGE, message_ts=ticket["card"])
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    assert desk.slack.calls_to("views.open") == []


def test_an_emoji_action_left_by_a_dead_process_is_worked_once_by_the_worker(desk: Desk, ticket: dict[str, str]) -> None:
    """reaction_added is kept before the ack (desk/slack/receipt.py): an engineer's :eyes: acked by a process
    that died before its work is claimed by the worker's inbox pass, once."""
    body = desk.driver.reaction_added("eyes", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                      item_ts=ticket["card"], item_user="UDESKBOT")
    found = receipt_of(body)
    assert found == ("reaction_added", f"event:{body['event_id']}")
    assert inbox.store(desk.engine, kind=found[0], key=found[1], payload=json.dumps(body), at=desk.clock.now(),
                       lease=desk.wiring.receipts.lease, within=1.0)
    desk.clock.advance(seconds=desk.wiring.receipts.lease.total_seconds())
    worker = desk.wiring.worker(enqueue_digests=None)
    assert worker.inbox() == 1
    assert state(desk)[0].assignee == ENGINEER
    assert worker.inbox() == 0 and [t for t, _ in state(desk)[1]].count("assigned") == 1


def test_an_app_without_reactions_write_skips_the_reaction_without_alerting_triage(desk: Desk,
                                                                                 ticket: dict[str, str]) -> None:
    """Installed before the manifest asked for reactions:write: Slack says missing_scope. A reaction only shows
    state at a glance: logged and skipped, the claim itself is whole, no alert in the triage channel."""
    desk.slack.inject("reactions.add", error="missing_scope", times=2)
    claim = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=ticket["card"])
    assert desk.driver.send_interaction(claim).status == 200
    desk.settle()
    assert state(desk)[0].assignee == ENGINEER
    assert [c.response.get("error") for c in desk.slack.calls_to("reactions.add")] == ["missing_scope"] * 2
    with unit_of_work(desk.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.kind.in_(("reaction", "alert")))).all()
    assert [(r.kind, r.status) for r in rows] == [("reaction", "sent")]


def test_a_rate_limited_reaction_is_added_in_the_end(desk: Desk, ticket: dict[str, str]) -> None:
    desk.slack.inject("reactions.add", rate_limited=1)
    claim = desk.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=ticket["card"])
    assert desk.driver.send_interaction(claim).status == 200
    desk.settle()
    desk.clock.advance(seconds=5)
    desk.wiring.worker(channel_pace=0).dispatcher.drain()
    assert desks_reactions(desk) == {(TRIAGE, ticket["card"], "eyes"), (CHERWELL_CHANNEL, ticket["message"], "eyes")}
