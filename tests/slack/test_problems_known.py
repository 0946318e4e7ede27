"""The known-problem notice: while a problem is open, a fourth council's new ticket that matches it is
linked as it arrives, and the council's confirmation says this is a known problem affecting the service,
with the latest update (and nothing of any other council). An engineer unlinks it from the card: it then
stays open when the problem is resolved, and its council hears nothing more of the problem."""

from __future__ import annotations

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import problems
from desk.slack.ids import Block, Input, View
from desk.slack.metadata import ProblemLink
from tests.slack.conftest import ENGINEER, SUPPORT, Desk
from tests.slack.problem_steps import (  # noqa: F401  (test_playbooks: the fixture with a fourth council)
    COUNCILS,
    LINK,
    UNLINK,
    card_actions,
    channel_posts,
    click,
    command,
    people,
    problem_message,
    raise_ticket,
    send,
    test_playbooks,
    thread_posts,
)

SUMMARY = "Card payments through GOV.UK Pay are timing out. We are working with GOV.UK Pay on it."
UPDATE = "GOV.UK Pay have found the fault; take card payments by phone meanwhile."


def start_problem(desk: Desk) -> None:
    """Cherwell and Fife raise it; the engineer starts PRB-1 from Cherwell's card, links Fife's, posts an
    update and tells intake what the problem's tickets say."""
    people(desk)
    raise_ticket(desk, "cherwell")
    raise_ticket(desk, "fife")
    click(desk, LINK, "CHW-1")
    modal = desk.slack.last("views.open").args["view"]
    send(desk, desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=modal,
                                           values={Block.PROBLEM_TITLE: {Input.VALUE: "Pay timeouts (CHW, FIFE)"},
                                                   Block.PROBLEM_SUMMARY: {Input.VALUE: SUMMARY}}))
    with unit_of_work(desk.engine) as session:
        problems.link(session, 1, "FIFE-1", by=ENGINEER, now=desk.clock.now())
    assert "2 linked open tickets" in command(desk, f"problem update PRB-1 {UPDATE}")
    said = command(desk, "problem match PRB-1 gov.uk pay, timing out")
    assert "linked to PRB-1 as they arrive" in said


def test_a_fourth_councils_ticket_is_told_it_is_a_known_problem_and_can_be_unlinked(desk: Desk) -> None:
    start_problem(desk)
    desk.clock.advance(minutes=30)
    ref, thread_ts = raise_ticket(desk, "oxford")
    assert ref == "OXF-1"
    with unit_of_work(desk.engine) as session:
        assert problems.known_problem_for(session, ref).ref == "PRB-1"

    confirmation = thread_posts(desk, COUNCILS["oxford"][2], thread_ts)
    assert len(confirmation) == 1
    said = confirmation[0]
    assert "This is a known problem affecting the service" in said
    assert "Card payments through GOV.UK Pay are timing out" in said and UPDATE in said
    for other in ("cherwell", "fife"):
        assert COUNCILS[other][4] not in said and COUNCILS[other][3] + "-1" not in said
    assert "Pay timeouts (CHW, FIFE)" not in said and "CHW" not in said, "the working title is support's only"

    # The card says so and offers Unlink; the problem's message lists Oxford's ticket under Oxford.
    assert card_actions(desk, ref)[UNLINK]["text"]["text"] == "Unlink from PRB-1"
    shown = problem_message(desk)
    assert "Oxford City Council" in shown and "OXF-1" in shown

    # Unlinked from the card (twice: a double click), it leaves the problem and its message.
    value = card_actions(desk, ref)[UNLINK]["value"]
    assert ProblemLink.load(value) == ProblemLink(ref=ref, problem=1)
    click(desk, UNLINK, ref, value)
    click(desk, UNLINK, ref, value)
    assert LINK in card_actions(desk, ref) and UNLINK not in card_actions(desk, ref)
    assert "OXF-1" not in problem_message(desk) and "Oxford City Council" not in problem_message(desk)
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, ref)
        assert problems.known_problem_for(session, ref) is None
        events = [e.type for e in queries.list_ticket_events(session, ticket.id)]
    assert events.count("problem_unlinked") == 1, events

    # Resolving the problem leaves Oxford's ticket open, and Oxford hears nothing of it.
    command(desk, "problem update PRB-1 A second update for the linked councils")
    command(desk, "problem resolve PRB-1 Fixed by GOV.UK Pay")
    with unit_of_work(desk.engine) as session:
        assert queries.get_ticket(session, ref).status == "new"
        assert queries.get_ticket(session, "CHW-1").status == "resolved"
    assert len(thread_posts(desk, COUNCILS["oxford"][2], thread_ts)) == 1
    oxford = " ".join(channel_posts(desk, COUNCILS["oxford"][2]))
    assert "second update" not in oxford and "Fixed by GOV.UK Pay" not in oxford
