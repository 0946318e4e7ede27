"""Problem blocks: valid Block Kit at any size, people's text escaped, and the two council-facing builders
(known-problem notice, broadcast) saying only what councils may read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.services.problem_views import (
    KnownProblem,
    LinkedTicket,
    ProblemSummary,
    ProblemView,
    PublicUpdate,
    StatusChange,
)
from desk.slack.blocks import cards, replies
from desk.slack.blocks import problems as blocks
from desk.slack.ids import Action, View
from desk.slack.metadata import ProblemForm, ProblemLink
from tests.slack.blockkit import NOW, flat, live_markup, message_problems, summary, view_problems

HOSTILE = "<!channel> <@U123> <https://evil.example|click> & <#C0OTHER>"
NAMES = {"cherwell": "Cherwell District Council", "fife": "Fife Council"}


def known(**overrides) -> KnownProblem:
    base = dict(id=3, ref="PRB-3", title="Pay timeouts (CHW, FIFE)", summary="Card payments are timing out.",
                status="known_error", status_label="known error", workaround="Take payments by phone.",
                latest_update="GOV.UK Pay have found the fault.")
    return KnownProblem(**{**base, **overrides})


def linked(ref: str, council: str, **overrides) -> LinkedTicket:
    base = dict(ref=ref, council_id=council, title="Card payments failing", status="in_progress", priority="P1",
                how="manual", linked_at=NOW, sla_state="resolve due Mon 5 Jan 14:00", respond_due_at=None,
                respond_met_at=NOW, resolve_due_at=NOW + timedelta(hours=4), breached=False)
    return LinkedTicket(**{**base, **overrides})


def view(tickets: dict[str, list[LinkedTicket]] | None = None, **overrides) -> ProblemView:
    problem = ProblemSummary(id=3, ref="PRB-3", title="Pay timeouts", status="identified", status_label="identified",
                             owner="U0ENGINEER", tickets=2, councils=2, opened_at=NOW, updated_at=NOW,
                             resolved_at=None)
    base = dict(problem=problem, summary="Card payments are timing out.", workaround=None, match=("gov.uk pay",),
                triage_rule="cannot-take-payments", category="payments", resolution_note=None,
                history=(StatusChange(NOW, "U0ENGINEER", None, "investigating"),
                         StatusChange(NOW, "U0ENGINEER", "investigating", "identified")),
                updates=(PublicUpdate(NOW, "U0ENGINEER", "First update."),
                         PublicUpdate(NOW, "U0ENGINEER", "Second update.")),
                tickets_by_council=tickets if tickets is not None else
                {"fife": [linked("FIFE-1", "fife")], "cherwell": [linked("CHW-1", "cherwell"),
                                                                   linked("CHW-4", "cherwell", status="new")]},
                triage_channel="C0TRIAGE", triage_ts="1.1")
    return ProblemView(**{**base, **overrides})


def test_the_triage_message_lists_tickets_by_council() -> None:
    message = blocks.triage_message(view(), NAMES, NOW)
    assert message_problems(message) == []
    said = flat(message)
    assert said.index("Cherwell District Council* (2)") < said.index("Fife Council* (1)")  # by name
    for expected in ("PRB-3 · Pay timeouts", "CHW-1", "CHW-4", "FIFE-1", "Identified", "<@U0ENGINEER>",
                     "Card payments are timing out.", "Second update.", "3 tickets from 2 councils"):
        assert expected in said
    assert "First update." not in said, "the latest update only"


def test_an_empty_problem_and_a_huge_one_are_both_valid() -> None:
    assert "No tickets linked yet" in flat(blocks.triage_message(view({}), NAMES, NOW))
    many = {f"c{n}": [linked(f"C{n:03d}-{i}".replace("C", "CX", 1)[:6] + f"-{i}", f"c{n}", title="x" * 500)
                      for i in range(30)] for n in range(40)}
    for message in (blocks.triage_message(view(many), {}, NOW), blocks.problem_detail(view(many), {}, NOW)):
        assert message_problems(message) == [] and "More tickets than fit here" in flat(message)


@pytest.mark.parametrize("field", ["title", "summary", "workaround", "update", "ticket", "council"])
def test_peoples_text_is_escaped_everywhere(field: str) -> None:
    problem = view().problem
    problem = ProblemSummary(**{**problem.__dict__, "title": HOSTILE if field == "title" else problem.title})
    shown = view(problem=problem, summary=HOSTILE if field == "summary" else "s",
                 workaround=HOSTILE if field == "workaround" else None,
                 updates=(PublicUpdate(NOW, "U0ENGINEER", HOSTILE if field == "update" else "u"),),
                 tickets_by_council={"x": [linked("CHW-1", "x", title=HOSTILE if field == "ticket" else "t")]})
    names = {"x": HOSTILE if field == "council" else "X"}
    for message in (blocks.triage_message(shown, names, NOW), blocks.problem_detail(shown, names, NOW),
                    blocks.problem_list([problem], NOW)):
        assert message_problems(message) == [] and live_markup(message) == []
    council_side = known(summary=HOSTILE, workaround=HOSTILE, latest_update=HOSTILE)
    assert live_markup(blocks.broadcast(council_side)) == []
    assert live_markup(replies.confirmation(summary(), NOW, known=council_side)) == []


def test_councils_read_the_summary_workaround_and_latest_update_never_the_title() -> None:
    for message in (blocks.broadcast(known()), replies.confirmation(summary(), NOW, known=known())):
        said = flat(message)
        assert message_problems(message) == []
        for expected in ("known problem affecting the service", "Card payments are timing out.",
                         "Take payments by phone.", "GOV.UK Pay have found the fault.", "Known error"):
            assert expected.lower() in said.lower()
        assert "Pay timeouts" not in said and "CHW, FIFE" not in said
    assert "known problem" in replies.confirmation(summary(), NOW, known=known()).text
    plain = flat(replies.confirmation(summary(), NOW))
    assert "known problem" not in plain
    resolved = flat(replies.confirmation(summary(), NOW, known=known(status="resolved", status_label="resolved")))
    assert "known problem" not in resolved, "a resolved problem is not news to a new ticket"
    no_summary = flat(replies.confirmation(summary(), NOW, known=known(summary="", workaround=None,
                                                                     latest_update=None)))
    assert "known problem affecting the service* (Known error), and we're working on it." in no_summary


def test_the_card_offers_link_or_unlink() -> None:
    def actions(message):
        return {e["action_id"]: e for b in message.blocks if b["type"] == "actions" for e in b["elements"]}

    unlinked = cards.triage_card(summary(), NOW)
    assert Action.LINK_PROBLEM in actions(unlinked) and Action.UNLINK_PROBLEM not in actions(unlinked)
    card = cards.triage_card(summary(), NOW, (), known())
    assert message_problems(card) == []
    button = actions(card)[Action.UNLINK_PROBLEM]
    assert button["text"]["text"] == "Unlink from PRB-3" and Action.LINK_PROBLEM not in actions(card)
    assert ProblemLink.load(button["value"]) == ProblemLink(ref="CHW-12", problem=3)
    assert "Part of problem *PRB-3* · Pay timeouts (CHW, FIFE) (known error)" in flat(card)
    closed = cards.triage_card(summary(status="closed"), NOW, (), known())
    assert {Action.LINK_PROBLEM, Action.UNLINK_PROBLEM}.isdisjoint(actions(closed))


def test_modals() -> None:
    modal = blocks.link_modal("CHW-12", "Card payments " + HOSTILE, [(3, "PRB-3 Pay timeouts"), (4, "x" * 300)])
    assert view_problems(modal) == [] and modal["callback_id"] == View.LINK_PROBLEM
    assert ProblemForm.load(modal["private_metadata"]) == ProblemForm(ref="CHW-12")
    select = next(b for b in modal["blocks"] if b.get("block_id") == "problem")["element"]
    assert [o["value"] for o in select["options"]] == ["3", "4"]
    title = next(b for b in modal["blocks"] if b.get("block_id") == "problem_title")
    assert title["optional"] is True and "initial_value" not in title["element"], "no council words copied"
    alone = blocks.link_modal("CHW-12", "", [])
    assert view_problems(alone) == [] and "No problem is open" in flat(alone)
    assert next(b for b in alone["blocks"] if b.get("block_id") == "problem_title")["optional"] is False
    new = blocks.new_problem_modal()
    assert view_problems(new) == [] and new["callback_id"] == View.NEW_PROBLEM
    assert ProblemForm.load(new["private_metadata"]) == ProblemForm()


def test_list_and_usage() -> None:
    assert "No open problems" in flat(blocks.problem_list([], NOW))
    listed = blocks.problem_list([view().problem] * 25, NOW)
    assert message_problems(listed) == [] and "and 5 more" in flat(listed)
    assert "2 tickets, 2 councils" in flat(listed)
    assert message_problems(blocks.usage()) == [] and "/desk problem resolve" in flat(blocks.usage())


def test_the_support_home_lists_open_problems_and_stays_under_a_hundred_blocks() -> None:
    from desk.slack.blocks import home

    full = {key: [summary(ref=f"CHW-{n}") for n in range(40)] for key, _ in home.QUEUES}
    problem = view().problem
    shown = home.support("U0ENGINEER", full, NOW, [problem] * 12)
    assert view_problems(shown) == [] and len(shown["blocks"]) <= 100
    said = flat(shown)
    assert "Open problems (12)" in said and "*PRB-3* · Identified · Pay timeouts — 2 tickets, 2 councils" in said
    assert "and 2 more" in said and said.count("PRB-3") == 10
    assert "Open problems" not in flat(home.support("U0ENGINEER", full, NOW))
