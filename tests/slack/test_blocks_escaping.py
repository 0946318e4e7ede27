"""The escaping contract, as a property over every builder that shows people's text.

Whatever a person types into a title, description, note, name or category, no block and no fallback
`text` carries a live `<!channel>`, `<!here>`, `<!subteam…>`, `<@…>` or `<url|label>` of theirs; the only
`<…>` desk sends are mentions it built from ids Slack gave it. And everything stays within Block Kit limits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.services.read_models import SlaView, TicketSummary
from desk.slack.blocks import Message, cards, home, modals, replies
from desk.slack.metadata import IntakeContext
from tests.slack.blockkit import (
    ENGINEER,
    NOW,
    REQUESTER,
    live_markup,
    message_problems,
    summary,
    view_problems,
)

ATTACKS = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam^S123>", "<!subteam^S123|@team>",
           "<https://evil.example|click>", "<https://evil.example>", "<#C123|general>", "&lt;!channel&gt;",
           "&", "<", ">", "*", "_", "`", "\n", "@channel", "https://evil.example", "&amp;", "<<!here>>"]
typed = st.lists(st.one_of(st.sampled_from(ATTACKS), st.text(max_size=12)), max_size=10).map("".join)
typed_long = st.one_of(typed, typed.map(lambda s: (s or "<!here>") * 400))
"""Short, and long enough to be cut: the cut must never leave half an entity or a stray `<`."""
typed_name = typed.map(lambda s: "name " + s)  # never an id shape: ids come from Slack, not from people
SLA = st.sampled_from([
    SlaView(NOW + timedelta(hours=1), None, None),
    SlaView(NOW - timedelta(hours=1), None, NOW - timedelta(hours=1)),
    SlaView(NOW - timedelta(hours=1), NOW - timedelta(hours=2), None),
    SlaView(NOW - timedelta(hours=2), NOW, NOW - timedelta(hours=2)),
    SlaView(None, None, None, paused=True),
])


@st.composite
def tickets(draw: st.DrawFn) -> TicketSummary:
    return summary(
        title=draw(typed_long), description=draw(typed_long), triage_reason=draw(typed_long),
        council_name=draw(typed_long), category=draw(st.one_of(st.none(), typed)),
        requester=draw(st.one_of(st.just(REQUESTER), typed_name, st.none())),
        assignee=draw(st.one_of(st.just(ENGINEER), typed_name, st.none())),
        status=draw(st.sampled_from(["new", "in_progress", "waiting_on_council", "resolved", "closed"])),
        respond=draw(SLA), resolve=draw(SLA), rating=draw(st.one_of(st.none(), st.integers(1, 5))),
    )


fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(output: Message | dict[str, Any]) -> None:
    assert live_markup(output) == []
    problems = message_problems(output) if isinstance(output, Message) else view_problems(output)
    assert problems == []


@fuzz
@given(tickets())
def test_triage_card(t: TicketSummary) -> None:
    check(cards.triage_card(t, NOW))


@fuzz
@given(tickets(), typed_long)
def test_council_replies(t: TicketSummary, note: str) -> None:
    check(replies.ticket_opened(t))
    check(replies.confirmation(t, NOW, opens_at=NOW + timedelta(hours=14)))
    check(replies.resolution(t, note))
    check(replies.status(t, NOW))
    check(replies.notice(note))


@fuzz
@given(st.lists(tickets(), max_size=25), st.one_of(st.none(), typed_long))
def test_ticket_list(found: list[TicketSummary], council_name: str | None) -> None:
    check(replies.ticket_list(council_name, found, NOW))


@fuzz
@given(st.lists(tickets(), max_size=20), typed_long)
def test_home_views(found: list[TicketSummary], council_name: str) -> None:
    check(home.support(ENGINEER, {"breaching": found, "unassigned": found[:5], "mine": found[5:],
                                  "waiting": found[::2]}, NOW))
    check(home.council(council_name, found, NOW))


@fuzz
@given(tickets(), typed_long, typed_long)
def test_modals(t: TicketSummary, title: str, description: str) -> None:
    check(modals.priority(t, [("P1", "Critical"), ("P2", "High")]))
    check(modals.resolve(t))
    check(modals.intake(["payments"], IntakeContext(author=REQUESTER), title=title, description=description))


def test_the_checker_would_catch_an_unescaped_title() -> None:
    """Guard against a vacuous property: raw people's text in mrkdwn is reported."""
    leaky = Message(text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "<!here>"}}])
    assert live_markup(leaky) != []
