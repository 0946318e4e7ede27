"""Block Kit limits, checked the way Slack checks them before it accepts a message or a view.

`slack_sdk.models` catches many limits when desk builds blocks, but not all (it does not look inside an
actions block's buttons until serialisation, accepts empty text, and knows nothing of duplicate ids), and
nothing stops a listener from sending hand-written JSON. So the stand-in checks every payload here and names
the exact path (`blocks[3].text.text: 3012 chars > 3000`); slack_sdk's own validation then runs as a
backstop on blocks these rules found nothing wrong with.

Each check returns a list of problems; an empty list means Slack would take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from desk.sandbox import elements
from desk.sandbox.elements import Problems, check_string, check_text_object

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000
BLOCK_ID_MAX = 255
KNOWN_BLOCK_TYPES = frozenset({
    "actions", "context", "context_actions", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "table", "video",
})
CONTEXT_ELEMENT_TYPES = frozenset({"image", "mrkdwn", "plain_text"})


def check_message_text(text: object, path: str = "text") -> list[str]:
    """Top-level `text`: the notification fallback, at most 40,000 characters."""
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        return [f"{path}: {len(text)} chars > {MESSAGE_TEXT_MAX}"]
    return []


def check_blocks(blocks: object, *, path: str = "blocks", max_blocks: int = MESSAGE_MAX_BLOCKS) -> list[str]:
    """A message's (or a view's) list of blocks."""
    problems = Problems()
    if not isinstance(blocks, list):
        problems.add(path, f"must be a list of blocks, got {type(blocks).__name__}")
        return problems
    if len(blocks) > max_blocks:
        problems.add(path, f"{len(blocks)} blocks > {max_blocks}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        block_path = f"{path}[{index}]"
        found = len(problems)
        _check_block(problems, block, block_path, block_ids)
        if len(problems) == found:
            _slack_sdk_backstop(problems, block, block_path)
    return problems


def check_view(view: object, path: str = "view") -> list[str]:
    """A modal or App Home view (views.open / push / update / publish)."""
    problems = Problems()
    if not isinstance(view, Mapping):
        problems.add(path, f"must be an object, got {type(view).__name__}")
        return problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.add(f"{path}.type", f"must be 'modal' or 'home', got {kind!r}")
    blocks = view.get("blocks")
    if blocks is None:
        problems.add(f"{path}.blocks", "missing")
    else:
        problems.extend(check_blocks(blocks, path=f"{path}.blocks", max_blocks=VIEW_MAX_BLOCKS))
    check_string(problems, view.get("private_metadata"), f"{path}.private_metadata", 3000)
    check_string(problems, view.get("callback_id"), f"{path}.callback_id", 255)
    check_string(problems, view.get("external_id"), f"{path}.external_id", 255)
    if kind == "modal":
        check_text_object(problems, view.get("title"), f"{path}.title", max_length=24, plain_only=True)
        for button in ("submit", "close"):
            if view.get(button) is not None:
                check_text_object(problems, view[button], f"{path}.{button}", max_length=24, plain_only=True)
        has_input = isinstance(blocks, list) and any(
            isinstance(block, Mapping) and block.get("type") == "input" for block in blocks
        )
        if has_input and view.get("submit") is None:
            problems.add(f"{path}.submit", "required when the modal has input blocks")
    if not problems and isinstance(blocks, list) and blocks:
        try:
            View(**dict(view)).validate_json()
        except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as error:
            problems.add(path, f"rejected by slack_sdk: {error}")
    return problems


def _check_block(problems: Problems, block: object, path: str, block_ids: set[str]) -> None:
    if not isinstance(block, Mapping):
        problems.add(path, f"must be an object, got {type(block).__name__}")
        return
    kind = block.get("type")
    if kind not in KNOWN_BLOCK_TYPES:
        problems.add(f"{path}.type", f"unknown block type {kind!r}")
        return
    block_id = block.get("block_id")
    if block_id is not None:
        check_string(problems, block_id, f"{path}.block_id", BLOCK_ID_MAX, required=True)
        if block_id in block_ids:
            problems.add(f"{path}.block_id", f"duplicate block_id {block_id!r}")
        if isinstance(block_id, str):
            block_ids.add(block_id)
    checker = _BLOCK_CHECKS.get(kind)
    if checker is not None:
        checker(problems, block, path)


def _section(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        problems.add(path, "a section needs text or fields")
    if text is not None:
        check_text_object(problems, text, f"{path}.text", max_length=3000)
    if fields is not None:
        if not isinstance(fields, list):
            problems.add(f"{path}.fields", "must be a list")
        else:
            if len(fields) > 10:
                problems.add(f"{path}.fields", f"{len(fields)} fields > 10")
            for index, field in enumerate(fields):
                check_text_object(problems, field, f"{path}.fields[{index}]", max_length=2000)
    if block.get("accessory") is not None:
        elements.check_element(problems, block["accessory"], f"{path}.accessory")


def _header(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    check_text_object(problems, block.get("text"), f"{path}.text", max_length=150, plain_only=True)


def _context(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    items = block.get("elements")
    if not isinstance(items, list) or not items:
        problems.add(f"{path}.elements", "must be a non-empty list")
        return
    if len(items) > 10:
        problems.add(f"{path}.elements", f"{len(items)} elements > 10")
    for index, item in enumerate(items):
        item_path = f"{path}.elements[{index}]"
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind not in CONTEXT_ELEMENT_TYPES:
            problems.add(f"{item_path}.type", f"{kind!r} is not allowed in a context block")
        elif kind == "image":
            elements.check_element(problems, item, item_path)
        else:
            check_text_object(problems, item, item_path)


def _actions(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    items = block.get("elements")
    if not isinstance(items, list) or not items:
        problems.add(f"{path}.elements", "must be a non-empty list")
        return
    if len(items) > 25:
        problems.add(f"{path}.elements", f"{len(items)} elements > 25")
    action_ids: set[str] = set()
    for index, item in enumerate(items):
        item_path = f"{path}.elements[{index}]"
        elements.check_element(problems, item, item_path)
        action_id = item.get("action_id") if isinstance(item, Mapping) else None
        if isinstance(action_id, str):
            if action_id in action_ids:
                problems.add(f"{item_path}.action_id", f"duplicate action_id {action_id!r} in one block")
            action_ids.add(action_id)


def _input(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    check_text_object(problems, block.get("label"), f"{path}.label", max_length=2000, plain_only=True)
    if block.get("hint") is not None:
        check_text_object(problems, block["hint"], f"{path}.hint", max_length=2000, plain_only=True)
    if block.get("element") is None:
        problems.add(f"{path}.element", "missing")
    else:
        elements.check_element(problems, block["element"], f"{path}.element")


def _image(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    if block.get("image_url") is None and block.get("slack_file") is None:
        problems.add(path, "an image needs image_url or slack_file")
    check_string(problems, block.get("image_url"), f"{path}.image_url", 3000)
    check_string(problems, block.get("alt_text"), f"{path}.alt_text", 2000, required=True)
    if block.get("title") is not None:
        check_text_object(problems, block["title"], f"{path}.title", max_length=2000, plain_only=True)


def _markdown(problems: Problems, block: Mapping[str, Any], path: str) -> None:
    check_string(problems, block.get("text"), f"{path}.text", 12_000, required=True)


_BLOCK_CHECKS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "markdown": _markdown,
}


def _slack_sdk_backstop(problems: Problems, block: object, path: str) -> None:
    """Let slack_sdk's own model validation speak for whatever the rules above do not cover."""
    try:
        parsed = Block.parse(block)  # type: ignore[arg-type]
        if parsed is not None:
            parsed.to_dict()  # validates the block and everything inside it
    except SlackObjectFormationError as error:
        problems.add(path, f"rejected by slack_sdk: {error}")
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        problems.add(path, f"not parseable by slack_sdk: {error!r}")
