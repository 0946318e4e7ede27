"""Modals: ids the submit handlers read, input limits, prefill, and typed private_metadata."""

from __future__ import annotations

from typing import Any

from desk.slack.blocks import modals
from desk.slack.ids import Block, Input, View
from desk.slack.metadata import IntakeContext, TicketRef
from tests.slack.blockkit import flat, summary, view_problems


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def test_intake_form() -> None:
    context = IntakeContext(channel="C0SUPPORT", message_ts="1583636382.000300", author="U0REQUESTER")
    view = modals.intake(["payments", "direct_debits"], context)
    assert view["type"] == "modal" and view["callback_id"] == View.INTAKE
    assert view["title"]["text"] == "New request"
    assert IntakeContext.load(view["private_metadata"]) == context
    fields = inputs(view)
    assert list(fields) == [Block.TITLE, Block.DESCRIPTION, Block.CATEGORY, Block.IMPACT, Block.URGENCY]
    assert all(field["element"]["action_id"] == Input.VALUE for field in fields.values())
    title, description = fields[Block.TITLE], fields[Block.DESCRIPTION]
    assert title["element"]["max_length"] == 200 and not title.get("optional")
    assert "initial_value" not in title["element"]
    assert description["element"]["multiline"] and description["element"]["max_length"] == 3000
    assert description["optional"]
    assert [o["value"] for o in fields[Block.CATEGORY]["element"]["options"]] == ["payments", "direct_debits"]
    for block_id in (Block.CATEGORY, Block.IMPACT, Block.URGENCY):
        assert fields[block_id]["optional"]
    assert [o["value"] for o in fields[Block.IMPACT]["element"]["options"]] == ["high", "medium", "low"]
    assert "Residents can't pay" in fields[Block.IMPACT]["element"]["options"][0]["description"]["text"]
    assert "council" not in {block_id.lower() for block_id in fields}
    assert view_problems(view) == []


def test_intake_without_categories_leaves_the_select_out() -> None:
    view = modals.intake([], IntakeContext())
    assert Block.CATEGORY not in inputs(view)
    assert IntakeContext.load(view["private_metadata"]) == IntakeContext()


def test_intake_prefill_from_a_message_is_shortened_to_the_input_limits() -> None:
    view = modals.intake(["payments"], IntakeContext(), title="Card <payments>\nfailing " * 500,
                         description="<!channel> & more " * 1_000)
    fields = inputs(view)
    title = fields[Block.TITLE]["element"]["initial_value"]
    description = fields[Block.DESCRIPTION]["element"]["initial_value"]
    assert 190 < len(title) <= 200 and "\n" not in title and title.startswith("Card <payments> failing")
    # the field's own editable text: shortened, not escaped
    assert 2990 < len(description) <= 3000 and description.startswith("<!channel> & more")
    assert view_problems(view) == []


def test_intake_skips_categories_that_cannot_round_trip() -> None:
    view = modals.intake(["payments", "x" * 151, "payments", ""], IntakeContext())
    assert [o["value"] for o in inputs(view)[Block.CATEGORY]["element"]["options"]] == ["payments"]


def test_priority_modal_preselects_the_current_priority() -> None:
    view = modals.priority(summary(), [("P1", "Critical"), ("P2", "High"), ("P3", "Medium"), ("P4", "Low")])
    assert view["callback_id"] == View.PRIORITY
    assert TicketRef.load(view["private_metadata"]) == TicketRef(ref="CHW-12")
    fields = inputs(view)
    select = fields[Block.PRIORITY]["element"]
    assert select["initial_option"]["value"] == "P2"
    assert [o["text"]["text"] for o in select["options"]][0] == "P1 Critical"
    assert not fields[Block.REASON].get("optional")
    assert fields[Block.REASON]["element"]["action_id"] == Input.VALUE
    assert "CHW-12" in flat(view)
    assert view_problems(view) == []


def test_priority_modal_with_no_playbook_priorities_still_offers_the_current_one() -> None:
    view = modals.priority(summary(), [])
    assert inputs(view)[Block.PRIORITY]["element"]["initial_option"]["value"] == "P2"


def test_resolve_modal() -> None:
    view = modals.resolve(summary())
    assert view["callback_id"] == View.RESOLVE and view["title"]["text"] == "Resolve CHW-12"
    assert TicketRef.load(view["private_metadata"]) == TicketRef(ref="CHW-12")
    note = inputs(view)[Block.RESOLUTION]
    assert not note.get("optional") and note["element"]["multiline"]
    assert view_problems(view) == []


def test_modal_titles_fit_with_the_longest_ref() -> None:
    view = modals.resolve(summary(ref="ABCDEF-123456789", title="t" * 10_000, council_name="c" * 10_000))
    assert len(view["title"]["text"]) <= 24
    assert view_problems(view) == []
    assert view_problems(modals.priority(summary(title="&" * 10_000, priority_name="n" * 500),
                                         [("P2", "x" * 500)])) == []
