"""What desk says in a council thread as a ticket's life moves on."""

from __future__ import annotations

from datetime import timedelta

from desk.services.read_models import SlaView
from desk.slack.blocks import cards, lifecycle
from tests.slack.blockkit import NOW, flat, message_problems, summary


def test_reopened_says_who_has_it_and_the_new_resolve_target() -> None:
    t = summary(status="in_progress", cycle=2,
                resolve=SlaView(due_at=NOW + timedelta(hours=8), stopped_at=None, breached_at=None))
    message = lifecycle.reopened(t, NOW)
    said = flat(message)
    assert "*CHW-12* is reopened and back with the support team" in said
    assert "We aim to resolve it by Mon 5 Jan 18:00." in said
    assert message_problems(message) == []


def test_reopened_while_paused_names_no_time() -> None:
    t = summary(status="in_progress", resolve=SlaView(due_at=None, stopped_at=None, breached_at=None, paused=True))
    assert "We aim" not in flat(lifecycle.reopened(t, NOW))


def test_closed_says_how_to_come_back() -> None:
    message = lifecycle.closed(summary(status="closed"))
    assert "*CHW-12* is now closed" in flat(message) and "open a follow-up ticket" in flat(message)
    assert message_problems(message) == []


def test_follow_up_notices_link_to_the_new_thread() -> None:
    url = "https://example.slack.com/archives/C0CHERWELL/p1767603600000200"
    opened = lifecycle.follow_up_opened("CHW-3", summary(), url)
    assert "CHW-3 is closed, so we've opened *CHW-12* as a follow-up" in flat(opened)
    assert f"<{url}|in its own thread>" in flat(opened)
    added = lifecycle.added_to_follow_up("CHW-3", summary(), None)
    assert "Added to *CHW-12*, the follow-up to CHW-3" in flat(added) and "<" not in flat(added)
    assert message_problems(opened) == [] and message_problems(added) == []


def test_the_cards_name_each_other() -> None:
    assert "Follow-up to CHW-3" in flat(cards.triage_card(summary(follow_up_of="CHW-3"), NOW))
    closed = cards.triage_card(summary(status="closed", follow_ups=("CHW-12", "CHW-15")), NOW)
    assert "Follow-ups: CHW-12, CHW-15" in flat(closed)
    assert all(block["type"] != "actions" for block in closed.blocks)
