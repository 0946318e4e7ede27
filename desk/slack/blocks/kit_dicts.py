"""A few of the kit's pieces built straight as the plain dicts the Web API takes, for a message rendered
once per outbox row (an escalation, while the dispatcher catches up on hundreds).

`kit.dicts` has slack_sdk build and validate a model, then serialise it: for an escalation that cost more
than all the rest of its rendering. These give the same dicts, keys in the same order (tests hold each equal
to its `kit` twin); the limits slack_sdk would check are kept as `kit` keeps them, by clipping the text.
"""

from __future__ import annotations

from typing import Any

from desk.slack.blocks import BUTTON_MAX, SECTION_MAX
from desk.slack.blocks.kit import CONTEXT_MAX
from desk.slack.blocks.text import clip, shorten


def _mrkdwn(safe: str, limit: int) -> dict[str, Any]:
    text = clip(safe, limit)
    return {"text": text, "type": "mrkdwn", "verbatim": True} if text else {"type": "mrkdwn", "verbatim": True}


def section(safe: str) -> dict[str, Any]:
    """`kit.section(safe)`, serialised."""
    return {"text": _mrkdwn(safe, SECTION_MAX), "type": "section"}


def context(*safe: str) -> dict[str, Any]:
    """`kit.context(*safe)`, serialised."""
    return {"elements": [_mrkdwn(part, CONTEXT_MAX) for part in safe[:10]], "type": "context"}


def button(label: str, action_id: str, *, value: str | None = None, style: str | None = None) -> dict[str, Any]:
    """`kit.button(...)`, serialised."""
    built: dict[str, Any] = {"action_id": str(action_id)}
    if style is not None:
        built["style"] = style
    built["text"] = {"emoji": True, "text": shorten(label, BUTTON_MAX), "type": "plain_text"}
    built["type"] = "button"
    if value is not None:
        built["value"] = value
    return built


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    """An actions block of serialised elements (`ActionsBlock(elements=...)`, serialised)."""
    return {"elements": list(elements), "type": "actions"}
