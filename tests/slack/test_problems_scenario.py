"""The issue's scenario from Slack, through signed requests: three councils raise GOV.UK Pay tickets, an
engineer links them to one problem from the triage cards, posts two updates with `/desk problem update`,
and resolves it. Each council's channel shows only its own thread's updates and resolution; the problem's
own message in the triage channel lists the tickets by council, updated in place."""

from __future__ import annotations

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.sandbox.interactions import static_select_value
from desk.services import audit, problem_audit, problems
from desk.slack.ids import Action, Block, Input, View
from tests.slack.conftest import ENGINEER, SUPPORT, TRIAGE, Desk
from tests.slack.problem_steps import (  # noqa: F401  (test_playbooks: the fixture with a fourth council)
    COUNCILS,
    LINK,
    UNLINK,
    card_actions,
    card_ts,
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
FIRST = "GOV.UK Pay have confirmed a fault in their card gateway and are fixing it."
SECOND = "A fix is being deployed; payments should recover within the hour."
NOTE = "GOV.UK Pay fixed their gateway at 14:10 and payments are going through again."


def link_from_card(desk: Desk, ref: str, *, choose: int | None = None) -> dict:
    """Press "Link to problem" on the ticket's card and submit the modal (an open problem, or a new one)."""
    click(desk, LINK, ref)
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.LINK_PROBLEM
    values = ({Block.PROBLEM: {Input.VALUE: static_select_value(str(choose))}} if choose else
              {Block.PROBLEM_TITLE: {Input.VALUE: "GOV.UK Pay timeouts"},
               Block.PROBLEM_SUMMARY: {Input.VALUE: SUMMARY}})
    send(desk, desk.driver.view_submission(View.LINK_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=modal,
                                           values=values))
    return modal


def test_three_councils_one_problem_two_updates_resolved_together(desk: Desk) -> None:
    people(desk)
    raised = {council: raise_ticket(desk, council) for council in ("cherwell", "fife", "belfast")}
    refs = {council: ref for council, (ref, _) in raised.items()}
    assert refs == {"cherwell": "CHW-1", "fife": "FIFE-1", "belfast": "BCC-1"}

    # The first card starts the problem; the modal offers no open problem yet.
    modal = link_from_card(desk, "CHW-1")
    assert "No problem is open" in str(modal["blocks"])
    assert UNLINK in card_actions(desk, "CHW-1") and LINK not in card_actions(desk, "CHW-1")
    assert card_actions(desk, "CHW-1")[UNLINK]["text"]["text"] == "Unlink from PRB-1"
    shown = problem_message(desk)
    assert "PRB-1" in shown and "Cherwell District Council" in shown and "CHW-1" in shown

    # The other two are linked to it from their cards (the modal now offers PRB-1).
    for ref in ("FIFE-1", "BCC-1"):
        modal = link_from_card(desk, ref, choose=1)
        assert "PRB-1 " in str(modal["blocks"])
        assert UNLINK in card_actions(desk, ref)
    shown = problem_message(desk)
    for council, ref in refs.items():
        assert COUNCILS[council][4] in shown and ref in shown
    # A change on a linked ticket's card shows on the problem's message too (sent by the worker).
    send(desk, desk.driver.block_action(Action.SET_STATUS, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                        message_ts=card_ts(desk, "FIFE-1"), selected_option={"value": "in_progress"}))
    desk.wiring.worker(channel_pace=0).dispatcher.drain()
    assert "*FIFE-1* · In progress" in problem_message(desk)
    posts_of_message = [c for c in desk.slack.calls_to("chat.postMessage")
                        if c.args["channel"] == TRIAGE and "PRB-1" in str(c.args.get("blocks"))
                        and not c.args.get("thread_ts") and "Problem" in c.args["text"]]
    assert len(posts_of_message) == 1, "one message for the problem, updated in place"

    # Two updates, each posted once in every linked ticket's own thread.
    desk.clock.advance(minutes=20)
    said = command(desk, f"problem update PRB-1 identified {FIRST}")
    assert "Posted in the thread of 3 linked open tickets" in said
    desk.clock.advance(minutes=30)
    said = command(desk, f"problem update PRB-1 {SECOND}")
    assert "3 linked open tickets" in said
    assert SECOND in problem_message(desk) and "Identified" in problem_message(desk)

    desk.clock.advance(hours=1)
    said = command(desk, f"problem resolve PRB-1 {NOTE}")
    assert "PRB-1 is resolved, with 3 linked tickets" in said
    with unit_of_work(desk.engine) as session:
        assert {queries.get_ticket(session, ref).status for ref in refs.values()} == {"resolved"}
        assert problems.get_problem(session, 1).status == "resolved"
    assert "Resolved" in problem_message(desk)

    # Each council's thread: confirmation, the two updates, the resolution, in that order, once each (and
    # Fife's, the notice that an engineer is working on its ticket).
    for council, (ref, thread_ts) in raised.items():
        channel = COUNCILS[council][2]
        thread = thread_posts(desk, channel, thread_ts)
        if council == "fife":
            assert "working on" in thread[1], thread[1]
            del thread[1]
        assert len(thread) == 4, (council, thread)
        assert ref in thread[0]
        assert FIRST in thread[1] and SECOND in thread[2]
        assert NOTE in thread[3] and "is resolved" in thread[3]
        # Nothing in this council's channel names another council or its ticket.
        everything = " ".join(channel_posts(desk, channel))
        for other, (other_ref, _) in raised.items():
            if other != council:
                assert other_ref not in everything and COUNCILS[other][4] not in everything
        assert "GOV.UK Pay timeouts" not in everything, "the working title stays with the support team"

    # Nothing left for the worker but the ✅ each resolved ticket's card and council message get
    # (desk/services/state_reactions.py): every post went out at once, and none twice.
    before = len(desk.slack.calls_to("reactions.add"))
    assert desk.wiring.worker(channel_pace=0).dispatcher.drain().sent == len(raised)
    added = [(c.args["channel"], c.args["timestamp"], c.args["name"]) for c in desk.slack.calls_to("reactions.add")]
    ticks = [((TRIAGE, card_ts(desk, ref)), (COUNCILS[council][2], thread_ts))
             for council, (ref, thread_ts) in raised.items()]
    assert sorted(added[before:]) == sorted((*at, "white_check_mark") for both in ticks for at in both)

    # The audit chains hold: the problem's own (opened, linked ×3, updated ×2, resolved) and each council's,
    # where its own ticket's link to the problem is recorded.
    with unit_of_work(desk.engine) as session:
        chain = problem_audit.verify(session)
        assert chain.ok and chain.events == 7, chain
        assert all(report.ok for report in audit.verify_all(session)), audit.verify_all(session)
        for ref in refs.values():
            ticket = queries.get_ticket(session, ref)
            assert "problem_linked" in [e.type for e in queries.list_ticket_events(session, ticket.id)]
