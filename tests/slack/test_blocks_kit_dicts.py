"""`kit_dicts` builds the same dicts as `kit` through slack_sdk's models, keys in the same order."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock

from desk.slack.blocks import kit, kit_dicts
from desk.slack.ids import Action


def same(built: object, through_models: object) -> bool:
    return json.dumps(built) == json.dumps(through_models)  # equal, and serialised alike


@given(st.text())
def test_a_section_and_a_context_are_the_kits(text: str) -> None:
    assert same(kit_dicts.section(text), kit.dicts([kit.section(text)])[0])
    assert same(kit_dicts.context(text, text), kit.dicts([kit.context(text, text)])[0])


@pytest.mark.parametrize("text", ["", "x" * 5000, "*CHW-12* breached\nHeld by <@U0ENGINEER>"])
def test_long_and_empty_texts_are_cut_and_left_out_as_the_kit_does(text: str) -> None:
    assert same(kit_dicts.section(text), kit.dicts([kit.section(text)])[0])


@pytest.mark.parametrize("label", ["Claim", "y" * 100])
@pytest.mark.parametrize("value", [None, '{"ref":"CHW-12"}'])
@pytest.mark.parametrize("style", [None, "primary"])
def test_a_button_in_an_actions_block_is_the_kits(label: str, value: str | None, style: str | None) -> None:
    through_models = kit.dicts([ActionsBlock(elements=[kit.button(label, Action.CLAIM, value=value, style=style)])])
    assert same(kit_dicts.actions(kit_dicts.button(label, Action.CLAIM, value=value, style=style)),
                through_models[0])
