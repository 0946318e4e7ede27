"""Council-facing replies and `/desk` answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.services.read_models import SlaView
from desk.slack.blocks import replies
from desk.slack.ids import Action
from desk.slack.metadata import RatingValue, TicketRef
from tests.slack.blockkit import ENGINEER, NOW, flat, message_problems, summary


def test_ticket_opened_is_a_thread_root_with_the_request() -> None:
    message = replies.ticket_opened(summary(description="x" * 10_000))
    said = flat(message)
    assert message.text == "CHW-12: Card payments failing at the contact centre"
    assert "<@U0REQUESTER>" in said and "cannot-take-payments" not in said
    assert all(block["type"] != "actions" for block in message.blocks)
    assert message_problems(message) == []


def test_confirmation_names_ref_priority_and_respond_time() -> None:
    message = replies.confirmation(summary(), NOW)
    assert message.text == "Thanks, this is CHW-12 (P2 High). We'll respond by Mon 5 Jan 11:00."
    said = flat(message)
    assert "An engineer will reply in this thread" in said and "Reply here to add information" in said
    assert "closed" not in said
    assert all(block["type"] != "actions" for block in message.blocks)
    assert message_problems(message) == []


def test_confirmation_out_of_hours_says_when_we_open() -> None:
    message = replies.confirmation(summary(), NOW, opens_at=NOW + timedelta(days=1, hours=-1))
    assert "We're closed now; we'll pick this up from Tue 6 Jan 09:00." in flat(message)


def test_confirmation_keeps_internal_triage_reason_out() -> None:
    assert "cannot-take-payments" not in flat(replies.confirmation(summary(), NOW))


def test_resolution_has_five_rating_buttons_and_not_fixed_while_resolved() -> None:
    # Changed with "Not fixed" (issue 13): the sixth button reopens, and the message says when it closes.
    resolved = summary(status="resolved", close_due_at=NOW + timedelta(days=7, hours=7))
    message = replies.resolution(resolved, "Restarted the gateway & cleared the queue.", NOW)
    assert message.text == "CHW-12 is resolved: Restarted the gateway &amp; cleared the queue."
    [actions] = [block for block in message.blocks if block["type"] == "actions"]
    ids = [element["action_id"] for element in actions["elements"]]
    assert ids == [f"{Action.RATE}.{score}" for score in range(1, 6)] + [Action.NOT_FIXED]
    values = [RatingValue.load(element["value"]) for element in actions["elements"][:5]]
    assert values == [RatingValue(ref="CHW-12", score=score) for score in range(1, 6)]
    assert TicketRef.load(actions["elements"][5]["value"]) == TicketRef(ref="CHW-12")
    said = flat(message)
    assert "How did we do?" in said and "Press *Not fixed* or reply here" in said
    assert "Otherwise it closes Mon 12 Jan 17:00." in said
    assert message_problems(message) == []


def test_a_closed_ticket_s_resolution_keeps_the_ratings_without_not_fixed() -> None:
    message = replies.resolution(summary(status="closed"), "Restarted the gateway.", NOW)
    [actions] = [block for block in message.blocks if block["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [f"{Action.RATE}.{score}" for score in range(1, 6)]
    assert "CHW-12 is closed. Reply here and we'll open a follow-up ticket." in flat(message)
    assert message_problems(message) == []


def test_a_reopened_ticket_s_resolution_offers_nothing() -> None:
    message = replies.resolution(summary(status="in_progress"), "Restarted the gateway.", NOW)
    assert all(block["type"] != "actions" for block in message.blocks)
    assert "CHW-12 was reopened" in flat(message)


def test_a_follow_up_s_thread_root_names_the_closed_ticket() -> None:
    assert "Follow-up to CHW-3, which is closed" in flat(replies.ticket_opened(summary(follow_up_of="CHW-3")))


def test_resolution_note_of_ten_thousand_characters() -> None:
    message = replies.resolution(summary(), "<fixed> & " * 1_000)
    assert message_problems(message) == []
    assert len(message.text) <= 300


@pytest.mark.parametrize(("score", "sorry"), [(1, True), (2, True), (3, False), (5, False)])
def test_rating_thanks(score: int, sorry: bool) -> None:
    message = replies.rating_thanks(score)
    assert f"({score}/5)" in message.text
    assert ("Sorry we fell short" in message.text) is sorry
    assert message_problems(message) == []


def test_status_shows_state_and_sla() -> None:
    t = summary(status="in_progress", assignee=ENGINEER,
                respond=SlaView(NOW, NOW - timedelta(minutes=10), None))
    message = replies.status(t, NOW)
    said = flat(message)
    for expected in ("*CHW-12*", "In progress", f"<@{ENGINEER}>", "responded ✓ at Mon 5 Jan 09:50",
                     "due Mon 5 Jan 18:00 (in 8h)", "Cherwell District Council"):
        assert expected in said
    assert message_problems(message) == []


def test_ticket_list_caps_at_twenty_lines_and_counts_the_rest() -> None:
    tickets = [summary(ref=f"CHW-{n}", title="&<" * 5_000) for n in range(1, 31)]
    message = replies.ticket_list("Cherwell District Council", tickets, NOW)
    said = flat(message)
    assert "CHW-20*" in said and "CHW-21*" not in said
    assert "and 10 more" in said
    assert said.count("• ") == 20
    assert message_problems(message) == []


def test_ticket_list_for_support_names_each_council() -> None:
    message = replies.ticket_list(None, [summary(council_name="Oxford City Council")], NOW)
    said = flat(message)
    assert "all councils" in said and "Oxford City Council" in said and "respond due in 1h" in said


def test_empty_ticket_list() -> None:
    message = replies.ticket_list("Cherwell District Council", [], NOW)
    assert message.text == "No open tickets for Cherwell District Council."
    assert message_problems(message) == []


def test_help_covers_every_way_in() -> None:
    said = flat(replies.help())
    for expected in ("`/desk`", "/desk status REF", "/desk list", ":ticket:", "Message shortcut"):
        assert expected in said


def test_notice_is_escaped_and_shortened() -> None:
    message = replies.notice("No ticket called <!channel> & friends")
    assert message.text == "No ticket called &lt;!channel&gt; &amp; friends"
    huge = replies.notice("x" * 10_000)
    assert message_problems(huge) == [] and len(huge.text) <= 300
