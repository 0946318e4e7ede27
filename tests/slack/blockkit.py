"""Test support for the Block Kit builders: ticket values, a Block Kit limit checker, a live-markup finder.

The checkers walk the plain dicts the builders return, the same thing the Web API receives, so they hold
whatever slack_sdk does or does not validate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from desk.services.read_models import SlaView, TicketSummary
from desk.slack.blocks import Message

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # Monday 5 January 2026, 10:00 in London
ENGINEER = "U0ENGINEER"
REQUESTER = "U0REQUESTER"
OUR_MENTIONS = re.compile(rf"<@({ENGINEER}|{REQUESTER}|U0OTHER)>")
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U123>", "<https://evil.example", "<#C")


def summary(**overrides: Any) -> TicketSummary:
    """An open, unassigned P2 ticket opened at NOW, respond due in 1h, resolve due in 8h."""
    base = TicketSummary(
        ref="CHW-12",
        council_id="cherwell",
        council_name="Cherwell District Council",
        title="Card payments failing at the contact centre",
        description="Since 09:00 every card payment is declined with error 502.",
        status="new",
        priority="P2",
        priority_name="High",
        category="payments",
        requester=REQUESTER,
        assignee=None,
        triage_reason="P2 by rule cannot-take-payments (impact high × urgency medium)",
        opened_at=NOW,
        timezone="Europe/London",
        respond=SlaView(due_at=NOW + timedelta(hours=1), stopped_at=None, breached_at=None),
        resolve=SlaView(due_at=NOW + timedelta(hours=8), stopped_at=None, breached_at=None),
        cycle=1,
    )
    return replace(base, **overrides)


def flat(obj: Any) -> str:
    """Every string in a message or view, newline-joined, for "does it say X" assertions."""
    return "\n".join(text for _, text in strings(obj))


def strings(obj: Any, path: str = "", *, skip_input_values: bool = False) -> Iterator[tuple[str, str]]:
    """(path, string) for every string value; optionally without text inputs' `initial_value`.

    A text input's initial value is the field's own editable content, never parsed as markup, so it is
    the one place people's text is (correctly) sent as typed.
    """
    if isinstance(obj, Message):
        yield "text", obj.text
        yield from strings(obj.blocks, "blocks", skip_input_values=skip_input_values)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if skip_input_values and key == "initial_value" and obj.get("type") == "plain_text_input":
                continue
            yield from strings(value, f"{path}.{key}", skip_input_values=skip_input_values)
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from strings(value, f"{path}[{index}]", skip_input_values=skip_input_values)
    elif isinstance(obj, str):
        yield path, obj


def live_markup(obj: Any) -> list[str]:
    """Every `<…>`-ish sequence or forbidden mention anywhere, except desk's own mentions of known ids.

    People's `<` and `>` are always escaped, so after removing the mentions desk itself wrote, no string
    may contain `<` or `>` at all: that is stricter than looking for the known attacks, and catches the
    ones nobody thought of.
    """
    found = []
    for path, text in strings(obj, skip_input_values=True):
        rest = OUR_MENTIONS.sub("", text)
        if "<" in rest or ">" in rest or any(bad in text for bad in FORBIDDEN):
            found.append(f"{path}: {text[:120]!r}")
    return found


def mrkdwn_objects(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, Message):
        yield from mrkdwn_objects(obj.blocks)
    elif isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            yield obj
        for value in obj.values():
            yield from mrkdwn_objects(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from mrkdwn_objects(value)


def _text(obj: dict[str, Any] | None) -> str:
    return (obj or {}).get("text", "")


def _element_problems(element: dict[str, Any], where: str) -> list[str]:
    problems = []
    kind = element.get("type")
    if len(_text(element.get("placeholder"))) > 150:
        problems.append(f"{where}: placeholder > 150")
    if kind == "button":
        if not 0 < len(_text(element["text"])) <= 75:
            problems.append(f"{where}: button text not 1..75")
        if len(element.get("value", "")) > 2000:
            problems.append(f"{where}: button value > 2000")
    for option in element.get("options", []):
        if not 0 < len(_text(option["text"])) <= 75 or len(_text(option.get("description"))) > 75:
            problems.append(f"{where}: option text > 75")
        if not 0 < len(option["value"]) <= 150:
            problems.append(f"{where}: option value not 1..150")
    if len(element.get("options", [])) > 100:
        problems.append(f"{where}: more than 100 options")
    if kind == "plain_text_input":
        initial = element.get("initial_value")
        if initial is not None and not 0 < len(initial) <= element.get("max_length", 3000):
            problems.append(f"{where}: initial_value longer than max_length (or empty)")
        if element.get("max_length", 0) > 3000:
            problems.append(f"{where}: max_length > 3000")
    return problems


def block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Block Kit limits per block type (only the types desk uses), plus unique ids."""
    problems: list[str] = []
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)):
        problems.append("repeated block_id")
    for index, block in enumerate(blocks):
        where, kind = f"block {index} ({block['type']})", block["type"]
        if kind == "section":
            if "text" in block and not 0 < len(_text(block["text"]).strip()) <= 3000:
                problems.append(f"{where}: text blank or > 3000")
            fields = block.get("fields", [])
            if len(fields) > 10 or any(len(_text(f)) > 2000 for f in fields):
                problems.append(f"{where}: fields")
            if not block.get("text") and not fields:
                problems.append(f"{where}: neither text nor fields")
            if "accessory" in block:
                problems += _element_problems(block["accessory"], where)
        elif kind == "header" and not 0 < len(_text(block["text"]).strip()) <= 150:
            problems.append(f"{where}: header not 1..150")
        elif kind == "context":
            elements = block["elements"]
            if not 0 < len(elements) <= 10 or any(not 0 < len(_text(e).strip()) <= 3000 for e in elements):
                problems.append(f"{where}: elements")
        elif kind == "actions":
            elements = block["elements"]
            if not 0 < len(elements) <= 25:
                problems.append(f"{where}: elements not 1..25")
            action_ids = [e["action_id"] for e in elements]
            if len(action_ids) != len(set(action_ids)):
                problems.append(f"{where}: repeated action_id")
            for element in elements:
                problems += _element_problems(element, where)
        elif kind == "input":
            if len(_text(block["label"])) > 2000 or len(_text(block.get("hint"))) > 2000:
                problems.append(f"{where}: label or hint > 2000")
            problems += _element_problems(block["element"], where)
    problems += [f"{obj['text'][:40]!r}: mrkdwn not verbatim" for obj in mrkdwn_objects(blocks)
                 if obj.get("verbatim") is not True]
    return problems


def message_problems(message: Message) -> list[str]:
    problems = block_problems(message.blocks)
    if not 0 < len(message.text.strip()) <= 3000:
        problems.append("fallback text not 1..3000")
    if not 0 < len(message.blocks) <= 50:
        problems.append("blocks not 1..50")
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    problems = block_problems(view["blocks"])
    if not 0 < len(view["blocks"]) <= 100:
        problems.append("blocks not 1..100")
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            if not 0 < len(_text(view.get(key))) <= 24:
                problems.append(f"{key} not 1..24")
    if len(view.get("private_metadata", "")) > 3000:
        problems.append("private_metadata > 3000")
    return problems
