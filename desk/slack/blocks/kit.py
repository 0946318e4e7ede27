"""The few Block Kit pieces every builder uses, with desk's safe defaults built in.

Every mrkdwn object is `verbatim`, so Slack does not turn URLs, channel names or "@here" in people's text
into links or mentions; every plain_text is shortened to its field's limit. Callers hand in mrkdwn that is
already safe (people's parts through `text.person_text`); these functions only bound its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from desk.slack.blocks import BUTTON_MAX, FIELD_MAX, HEADER_MAX, OPTION_MAX, SECTION_MAX
from desk.slack.blocks.text import clip, shorten

CONTEXT_MAX = 3000
"""Slack documents no separate limit for a context element's text; desk holds it to a section's."""


def mrkdwn(safe: str, limit: int = SECTION_MAX) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(safe, limit), verbatim=True)


def plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=shorten(text, limit), emoji=True)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=shorten(text, HEADER_MAX), emoji=True))


def section(safe: str, *, accessory: InteractiveElement | None = None) -> SectionBlock:
    return SectionBlock(text=mrkdwn(safe), accessory=accessory)


def fields(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    """A two-column section of `*label*\\nvalue` cells (Slack allows ten)."""
    return SectionBlock(fields=[mrkdwn(f"*{label}*\n{value}", FIELD_MAX) for label, value in pairs[:10]])


def context(*safe: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(part, CONTEXT_MAX) for part in safe[:10]])


def button(label: str, action_id: str, *, value: str | None = None,
           style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(label, BUTTON_MAX), action_id=str(action_id), value=value, style=style)


def option(label: str, value: str, description: str | None = None) -> Option:
    text = plain(label, OPTION_MAX)
    described = plain(description, OPTION_MAX) if description else None
    return Option(value=value, text=text, description=described)


def sections(lines: Iterable[str], separator: str = "\n") -> list[SectionBlock]:
    """Pack safe mrkdwn lines into as few sections as fit Slack's 3,000 characters each.

    A single line longer than a section is clipped; callers keep their lines short, so that is rare.
    """
    packed: list[SectionBlock] = []
    current = ""
    for line in lines:
        line = clip(line, SECTION_MAX)
        if current and len(current) + len(separator) + len(line) > SECTION_MAX:
            packed.append(section(current))
            current = line
        else:
            current = f"{current}{separator}{line}" if current else line
    if current:
        packed.append(section(current))
    return packed


def dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    """Validate (slack_sdk checks its limits here) and serialise for the Web API."""
    return [block.to_dict() for block in blocks]
