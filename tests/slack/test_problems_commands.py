"""`/desk problem …` for engineers: list, show, new, workaround, summary, and the errors a person can act on."""

from __future__ import annotations

from desk.db.engine import unit_of_work
from desk.services import problems
from desk.slack.ids import Block, Input, View
from tests.slack.conftest import ENGINEER, SUPPORT, Desk
from tests.slack.problem_steps import (  # noqa: F401  (test_playbooks: the fixture with a fourth council)
    COUNCILS,
    command,
    people,
    problem_message,
    raise_ticket,
    send,
    test_playbooks,
    thread_posts,
)


def test_an_engineer_runs_a_problem_from_the_command(desk: Desk) -> None:
    people(desk)
    assert "No open problems" in command(desk, "problem list")
    assert "/desk problem resolve PRB-3 NOTE" in command(desk, "problem")

    command(desk, "problem new")
    form = desk.slack.last("views.open").args["view"]
    assert form["callback_id"] == View.NEW_PROBLEM
    missing = desk.driver.send_interaction(desk.driver.view_submission(
        View.NEW_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=form, values={}))
    assert missing.json()["response_action"] == "errors" and Block.PROBLEM_TITLE in missing.json()["errors"]
    send(desk, desk.driver.view_submission(View.NEW_PROBLEM, user=ENGINEER, user_team=SUPPORT, view=form, values={
        Block.PROBLEM_TITLE: {Input.VALUE: "BACS file format change"},
        Block.PROBLEM_SUMMARY: {Input.VALUE: "The new BACS file format is rejected by the import."}}))
    assert "BACS file format change" in problem_message(desk) and "No tickets linked yet" in problem_message(desk)
    send(desk, desk.driver.app_home_opened(user=ENGINEER, user_team=SUPPORT), interaction=False)
    assert "Open problems (1)" in str(desk.slack.last("views.publish").args["view"])
    listed = command(desk, "problem list")
    assert "PRB-1" in listed and "BACS file format change" in listed and "0 tickets, 0 councils" in listed

    refs = {council: raise_ticket(desk, council, "The BACS import rejects today's file") for council in
            ("cherwell", "belfast")}
    with unit_of_work(desk.engine) as session:
        for ref, _ in refs.values():
            problems.link(session, 1, ref, by=ENGINEER, now=desk.clock.now())

    said = command(desk, "problem workaround PRB-1 Import the file with the old template until the fix.")
    assert "Posted in the thread of 2 linked open tickets" in said
    for council, (_, thread_ts) in refs.items():
        assert "old template" in thread_posts(desk, COUNCILS[council][2], thread_ts)[-1]
    said = command(desk, "problem summary PRB-1 BACS files from some councils are rejected by the import.")
    assert "nothing was posted" in said
    shown = command(desk, "problem show PRB-1")
    for expected in ("Known error", "Cherwell District Council", "Belfast City Council", "old template",
                     "rejected by the import", "Investigating → Known error"):
        assert expected in shown, expected
    assert "Fife" not in shown, "councils with no linked ticket are not listed"

    assert "no problem 'PRB-9'" in command(desk, "problem show PRB-9")
    assert "Which problem?" in command(desk, "problem update")
    assert "Say the update for councils" in command(desk, "problem update PRB-1")
    assert "Say what fixed it" in command(desk, "problem resolve PRB-1")
    assert "`/desk problem resolve PRB-1 NOTE`" in command(desk, "problem update PRB-1 resolved all good")
    assert "is not a problem status" not in command(desk, "problem update PRB-1 monitoring")  # a status alone
    with unit_of_work(desk.engine) as session:
        assert problems.get_problem(session, 1).status == "monitoring"
