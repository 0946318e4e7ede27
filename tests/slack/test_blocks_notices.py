"""What the council reads in its thread when support changes its ticket (desk/slack/blocks/notices.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.services.council_notices import CouncilNotice, NoticeKind
from desk.services.read_models import SlaView
from desk.slack.blocks import modals
from desk.slack.blocks.notices import council_notice
from tests.slack.blockkit import NOW, flat, live_markup, message_problems, summary, view_problems

HOSTILE = "<!channel> <@U123> <https://evil.example|click> & co"


def test_waiting_says_what_is_needed_escaped_and_that_the_clock_is_paused() -> None:
    message = council_notice(CouncilNotice(NoticeKind.WAITING, summary(), needed=HOSTILE), NOW)
    said = flat(message)
    assert "*CHW-12* is waiting on you" in said and "paused until you do" in said
    assert "&lt;!channel&gt; &lt;@U123&gt;" in said and "&amp; co" in said
    assert live_markup(message.blocks) == [] and message_problems(message) == []
    assert message.text == "CHW-12 is waiting on you."


def test_priority_names_old_and_new_and_the_new_due_times_in_local_time() -> None:
    t = summary(priority="P1", priority_name="Critical",
                respond=SlaView(due_at=NOW + timedelta(minutes=30), stopped_at=None, breached_at=None),
                resolve=SlaView(due_at=NOW + timedelta(hours=4), stopped_at=None, breached_at=None))
    said = flat(council_notice(CouncilNotice(NoticeKind.PRIORITY, t, priority_from="P3 Medium",
                                             priority_to="P1 Critical"), NOW))
    assert "*CHW-12* is now P1 Critical (was P3 Medium)" in said
    assert "We'll respond by Mon 5 Jan 10:30" in said and "resolve it by Mon 5 Jan 14:00" in said


def test_priority_while_waiting_says_resolve_is_paused_and_omits_a_met_respond() -> None:
    t = summary(respond=SlaView(due_at=NOW, stopped_at=NOW, breached_at=None),
                resolve=SlaView(due_at=None, stopped_at=None, breached_at=None, paused=True))
    said = flat(council_notice(CouncilNotice(NoticeKind.PRIORITY, t, priority_from="P2 High",
                                             priority_to="P3 Medium"), NOW))
    assert "respond by" not in said and "paused while we wait for you" in said


@pytest.mark.parametrize(("name", "shown"), [("Sam <b> Jones", "Sam &lt;b&gt; Jones is looking after"),
                                             (None, "An engineer is looking after")])
def test_assigned_names_a_person_never_an_id(name, shown) -> None:
    message = council_notice(CouncilNotice(NoticeKind.ASSIGNED, summary(), assignee="U0ENGINEER1"), NOW,
                             assignee_name=name)
    said = flat(message)
    assert shown in said and "U0ENGINEER1" not in said and live_markup(message.blocks) == []


def test_status_and_unassigned_are_plain_sentences() -> None:
    again = flat(council_notice(CouncilNotice(NoticeKind.STATUS, summary(), status_from="waiting_on_council",
                                              status_to="in_progress"), NOW))
    assert "in progress again" in again and "running again" in again
    back = flat(council_notice(CouncilNotice(NoticeKind.STATUS, summary(), status_from="in_progress",
                                             status_to="new"), NOW))
    assert "back in the queue" in back
    assert "back with the support team" in flat(council_notice(CouncilNotice(NoticeKind.UNASSIGNED, summary()), NOW))


def test_the_waiting_modal_asks_what_is_needed() -> None:
    view = modals.waiting(summary())
    assert view["callback_id"] == "desk.waiting_modal" and view_problems(view) == []
    assert "What do you need from the council?" in flat(view)
