"""The triage card: what it says in each state, which controls it offers, and what those carry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from desk.services.read_models import SlaView
from desk.slack.blocks import Message
from desk.slack.blocks.cards import triage_card
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.blockkit import ENGINEER, NOW, flat, message_problems, summary


def actions_of(message: Message) -> dict[str, dict[str, Any]]:
    found = {}
    for block in message.blocks:
        if block["type"] == "actions":
            found.update({element["action_id"]: {**element, "block_id": block["block_id"]}
                          for element in block["elements"]})
    return found


def test_unassigned_new_ticket() -> None:
    card = triage_card(summary(), NOW)
    assert card.blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "CHW-12 · P2 High",
                                                         "emoji": True}}
    said = flat(card)
    for expected in ("Cherwell District Council", "Card payments failing at the contact centre",
                     "error 502", "unassigned", "<@U0REQUESTER>", "P2 by rule cannot-take-payments",
                     "due Mon 5 Jan 11:00 (in 1h)", "due Mon 5 Jan 18:00 (in 8h)", "New"):
        assert expected in said
    assert card.text.startswith("CHW-12 · P2 High · Cherwell District Council: Card payments")
    assert message_problems(card) == []


TEAM = [(ENGINEER, "Jo Engineer"), ("U0ENGINEER2", "Sam Engineer")]


def test_open_card_controls_carry_the_ticket() -> None:
    actions = actions_of(triage_card(summary(), NOW, TEAM))
    assert list(actions) == [Action.CLAIM, Action.ASSIGN, Action.CHANGE_PRIORITY, Action.SET_STATUS,
                             Action.RESOLVE, Action.LINK_PROBLEM]
    for action_id in (Action.CLAIM, Action.CHANGE_PRIORITY, Action.RESOLVE, Action.LINK_PROBLEM):
        assert TicketRef.load(actions[action_id]["value"]) == TicketRef(ref="CHW-12")
    # selects have no value: the actions block id names the ticket
    assert TicketRef.load(actions[Action.ASSIGN]["block_id"]) == TicketRef(ref="CHW-12")
    assert actions[Action.CLAIM]["text"]["text"] == "Claim"
    assert actions[Action.RESOLVE]["style"] == "primary"
    # Assign offers the support team only (a static menu, not Slack's pick-anyone user select)
    assert actions[Action.ASSIGN]["type"] == "static_select" and "initial_option" not in actions[Action.ASSIGN]
    assert [(o["value"], o["text"]["text"]) for o in actions[Action.ASSIGN]["options"]] == TEAM
    select = actions[Action.SET_STATUS]
    assert [o["value"] for o in select["options"]] == ["new", "in_progress", "waiting_on_council"]
    assert select["initial_option"]["value"] == "new"


def test_assigned_ticket_offers_take_over_and_shows_the_assignee() -> None:
    card = triage_card(summary(assignee=ENGINEER, status="in_progress"), NOW, TEAM)
    actions = actions_of(card)
    assert actions[Action.CLAIM]["text"]["text"] == "Take over"
    assert actions[Action.ASSIGN]["initial_option"]["value"] == ENGINEER
    assert actions[Action.SET_STATUS]["initial_option"]["value"] == "in_progress"
    assert f"<@{ENGINEER}>" in flat(card)


def test_an_assignee_that_is_not_an_id_is_shown_escaped_and_not_preselected() -> None:
    card = triage_card(summary(assignee="Jo <Bloggs>"), NOW, TEAM)
    assert "initial_option" not in actions_of(card)[Action.ASSIGN]
    assert "Jo &lt;Bloggs&gt;" in flat(card)


def test_resolved_ticket_offers_reopen_and_note_editing_and_shows_met_targets_and_rating() -> None:
    t = summary(status="resolved", assignee=ENGINEER, rating=4,
                respond=SlaView(NOW + timedelta(hours=1), NOW + timedelta(minutes=20), None),
                resolve=SlaView(NOW + timedelta(hours=8), NOW + timedelta(hours=3), None))
    card = triage_card(t, NOW + timedelta(hours=4))
    actions = actions_of(card)
    assert list(actions) == [Action.REOPEN, Action.EDIT_RESOLUTION]  # the note of a ✅ resolution is a default
    assert TicketRef.load(actions[Action.REOPEN]["value"]).ref == "CHW-12"
    assert TicketRef.load(actions[Action.EDIT_RESOLUTION]["value"]).ref == "CHW-12"
    said = flat(card)
    assert "responded ✓ at Mon 5 Jan 10:20" in said and "resolved ✓ at Mon 5 Jan 13:00" in said
    assert "★★★★☆ (4/5)" in said


def test_closed_ticket_has_no_controls() -> None:
    card = triage_card(summary(status="closed"), NOW)
    assert actions_of(card) == {}
    assert all(block["type"] != "actions" for block in card.blocks)


def test_breached_respond_target() -> None:
    t = summary(respond=SlaView(NOW - timedelta(minutes=30), None, NOW - timedelta(minutes=30)))
    said = flat(triage_card(t, NOW))
    assert "*BREACHED* at Mon 5 Jan 09:30 (30m ago)" in said


def test_breach_stays_visible_after_the_reply() -> None:
    t = summary(respond=SlaView(NOW - timedelta(hours=1), NOW, NOW - timedelta(hours=1)))
    assert "responded at Mon 5 Jan 10:00 — breached at Mon 5 Jan 09:00" in flat(triage_card(t, NOW))


def test_paused_resolve_clock() -> None:
    t = summary(status="waiting_on_council",
                respond=SlaView(NOW, NOW - timedelta(minutes=5), None),
                resolve=SlaView(None, None, None, paused=True))
    card = triage_card(t, NOW)
    assert "paused — waiting on council" in flat(card)
    assert actions_of(card)[Action.SET_STATUS]["initial_option"]["value"] == "waiting_on_council"


def test_reopened_ticket_names_the_resolve_cycle() -> None:
    assert "*Resolve (cycle 2)*" in flat(triage_card(summary(cycle=2), NOW))


def test_card_without_description_or_reason_or_category() -> None:
    card = triage_card(summary(description="  ", triage_reason="", category=None), NOW)
    assert message_problems(card) == []
    assert "Why" not in flat(card)


@pytest.mark.parametrize("field", ["title", "description", "triage_reason", "council_name", "category",
                                   "priority_name"])
def test_ten_thousand_characters_are_shortened_not_rejected(field: str) -> None:
    card = triage_card(summary(**{field: "&<" * 5_000}), NOW)
    assert message_problems(card) == []
    assert len(card.text) <= 300


def test_description_is_cut_to_about_six_hundred_characters() -> None:
    card = triage_card(summary(description="word " * 2_000), NOW)
    longest = max(len(b["text"]["text"]) for b in card.blocks if b["type"] == "section" and "text" in b)
    assert 500 < longest <= 600


def test_without_anyone_to_offer_the_card_has_no_assign_menu() -> None:
    """When Slack cannot list the team, the card offers nobody rather than everyone; Claim still works."""
    actions = actions_of(triage_card(summary(), NOW))
    assert Action.ASSIGN not in actions and Action.CLAIM in actions


def test_an_assignee_who_left_the_team_is_not_preselected() -> None:
    card = triage_card(summary(assignee="U0FORMER01", status="in_progress"), NOW, TEAM)
    assert "initial_option" not in actions_of(card)[Action.ASSIGN]


def test_saved_replies_are_a_menu_on_an_open_card_only() -> None:
    replies = [("looking-into-it", "We are looking into it"), ("need-export", "Ask for the export")]
    actions = actions_of(triage_card(summary(), NOW, TEAM, replies=replies))
    menu = actions[Action.REPLY_WITH]
    assert menu["type"] == "static_select" and menu["placeholder"]["text"] == "Reply with…"
    assert [(o["value"], o["text"]["text"]) for o in menu["options"]] == replies
    assert TicketRef.load(menu["block_id"]) == TicketRef(ref="CHW-12")  # the ticket, from the card
    assert Action.REPLY_WITH not in actions_of(triage_card(summary(status="resolved"), NOW, TEAM, replies=replies))
    assert Action.REPLY_WITH not in actions_of(triage_card(summary(), NOW, TEAM))
    assert message_problems(triage_card(summary(), NOW, TEAM, replies=replies)) == []
