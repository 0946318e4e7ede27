"""The Block Kit limits the stand-in checks (the pure checks behind its `invalid_blocks` answers)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from desk.sandbox import blockkit


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Claim"}, "action_id": "desk.claim",
            **fields}


def option(text: str = "P1", value: str = "P1") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "desk.priority", "options": options}


def modal(**fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Resolve"}, "blocks": [section("x")],
            **fields}


TEXT_INPUT = {"type": "input", "block_id": "note", "label": {"type": "plain_text", "text": "Note"},
              "element": {"type": "plain_text_input", "action_id": "value", "max_length": 10,
                          "initial_value": "x" * 11}}


@pytest.mark.parametrize(("blocks", "problem"), [
    ([section("x")] * 51, "blocks: 51 blocks > 50"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
     "blocks[0].text.text: 151 chars > 150"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
     "blocks[0].text.type: must be plain_text, got 'mrkdwn'"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     "blocks[0].fields: 11 fields > 10"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
     "blocks[0].fields[0].text: 2001 chars > 2000"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "blocks[0].elements: 11 elements > 10"),
    ([{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}],
     "blocks[0].elements: 26 elements > 25"),
    ([{"type": "actions", "elements": [button(text={"type": "plain_text", "text": "b" * 76})]}],
     "blocks[0].elements[0].text.text: 76 chars > 75"),
    ([{"type": "actions", "elements": [button(value="v" * 2001)]}],
     "blocks[0].elements[0].value: 2001 chars > 2000"),
    ([{"type": "actions", "elements": [button(action_id="a" * 256)]}],
     "blocks[0].elements[0].action_id: 256 chars > 255"),
    ([{"type": "actions", "elements": [button(), button()]}],
     "blocks[0].elements[1].action_id: duplicate action_id 'desk.claim' in one block"),
    ([{**section("x"), "block_id": "b" * 256}], "blocks[0].block_id: 256 chars > 255"),
    ([{**section("x"), "block_id": "card"}, {**section("y"), "block_id": "card"}],
     "blocks[1].block_id: duplicate block_id 'card'"),
    ([{**section("x"), "accessory": select([option("o" * 76)])}],
     "blocks[0].accessory.options[0].text.text: 76 chars > 75"),
    ([{**section("x"), "accessory": select([option(value="v" * 151)])}],
     "blocks[0].accessory.options[0].value: 151 chars > 150"),
    ([{**section("x"), "accessory": select([option(value=str(i)) for i in range(101)])}],
     "blocks[0].accessory.options: 101 options, allowed 1..100"),
    ([section("")], "blocks[0].text.text: must be a non-empty string"),
    ([{"type": "context", "elements": [{"type": "plain_text", "text": ""}]}],
     "blocks[0].elements[0].text: must be a non-empty string"),
    ([TEXT_INPUT], "blocks[0].element.initial_value: 11 chars > 10"),
    ([{**TEXT_INPUT, "label": {"type": "plain_text", "text": "l" * 2001}, "element": {
        "type": "plain_text_input", "action_id": "v"}}], "blocks[0].label.text: 2001 chars > 2000"),
    ([{"type": "sektion", "text": {"type": "mrkdwn", "text": "typo"}}],
     "blocks[0].type: unknown block type 'sektion'"),
    ("[]", "blocks: must be a list of blocks, got str"),
])
def test_block_kit_limits(blocks: Any, problem: str) -> None:
    assert problem in blockkit.check_blocks(blocks)


@pytest.mark.parametrize(("view", "problem"), [
    (modal(title={"type": "plain_text", "text": "t" * 25}), "view.title.text: 25 chars > 24"),
    (modal(submit={"type": "plain_text", "text": "s" * 25}), "view.submit.text: 25 chars > 24"),
    (modal(close={"type": "plain_text", "text": "c" * 25}), "view.close.text: 25 chars > 24"),
    (modal(private_metadata="m" * 3001), "view.private_metadata: 3001 chars > 3000"),
    (modal(callback_id="c" * 256), "view.callback_id: 256 chars > 255"),
    (modal(blocks=[section("x")] * 101), "view.blocks: 101 blocks > 100"),
    (modal(blocks=[{**TEXT_INPUT, "element": {"type": "plain_text_input", "action_id": "v"}}]),
     "view.submit: required when the modal has input blocks"),
    ({"type": "home", "blocks": [section("x" * 3001)]}, "view.blocks[0].text.text: 3001 chars > 3000"),
])
def test_view_limits(view: dict[str, Any], problem: str) -> None:
    assert problem in blockkit.check_view(view)


def test_blocks_built_with_slack_sdk_models_pass() -> None:
    card = [
        HeaderBlock(text="CHW-1: We cannot take card payments"),
        SectionBlock(text=MarkdownTextObject(text="*Priority* P1 · respond by 14:30"),
                     fields=[MarkdownTextObject(text="*Council*\nCherwell"),
                             MarkdownTextObject(text="*Status*\nNew")],
                     accessory=StaticSelectElement(action_id="desk.priority", options=[
                         Option(text="P1", value="P1"), Option(text="P2", value="P2")])),
        ActionsBlock(elements=[ButtonElement(text="Claim", action_id="desk.claim", value='{"ref":"CHW-1"}',
                                             style="primary")]),
        ContextBlock(elements=[MarkdownTextObject(text="Opened by <@U0CHW1>")]),
        DividerBlock(),
    ]
    home = {"type": "home", "blocks": [block.to_dict() for block in card]}

    assert blockkit.check_blocks([block.to_dict() for block in card]) == []
    assert blockkit.check_view(home) == []
