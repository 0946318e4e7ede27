"""Block Kit composition objects and interactive elements: text, options, confirm dialogs, buttons, inputs.

Split from `blockkit.py` (which walks blocks and views) so each stays readable; the limits are Slack's
published ones, and every problem names its JSON path so a failing test says which field to shorten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACTION_ID_MAX = 255
PLACEHOLDER_MAX = 150
TEXT_INPUT_MAX = 3000
SELECT_TYPES = frozenset({
    "static_select", "multi_static_select", "external_select", "multi_external_select", "users_select",
    "multi_users_select", "conversations_select", "multi_conversations_select", "channels_select",
    "multi_channels_select",
})
OTHER_ELEMENT_TYPES = frozenset({
    "button", "checkboxes", "radio_buttons", "overflow", "datepicker", "timepicker", "datetimepicker",
    "plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input",
    "file_input", "image", "workflow_button",
})


class Problems(list[str]):
    """The problems found so far, each `path: what is wrong`."""

    def add(self, path: str, message: str) -> None:
        self.append(f"{path}: {message}")


def check_string(
    problems: Problems, value: object, path: str, max_length: int, *, required: bool = False
) -> None:
    """A plain string field (ids, values, URLs, metadata): absent is fine unless required."""
    if value is None:
        if required:
            problems.add(path, "missing")
        return
    if not isinstance(value, str):
        problems.add(path, f"must be a string, got {type(value).__name__}")
    elif required and not value:
        problems.add(path, "must not be empty")
    elif len(value) > max_length:
        problems.add(path, f"{len(value)} chars > {max_length}")


def check_text_object(
    problems: Problems, value: object, path: str, *, max_length: int | None = None, plain_only: bool = False
) -> None:
    """A `plain_text` or `mrkdwn` object: the right type and a non-empty `text` within the limit."""
    if not isinstance(value, Mapping):
        problems.add(path, "missing" if value is None else f"must be a text object, got {value!r:.40}")
        return
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if value.get("type") not in allowed:
        problems.add(f"{path}.type", f"must be {' or '.join(allowed)}, got {value.get('type')!r}")
    text = value.get("text")
    if not isinstance(text, str) or not text:
        problems.add(f"{path}.text", "must be a non-empty string")
    elif max_length is not None and len(text) > max_length:
        problems.add(f"{path}.text", f"{len(text)} chars > {max_length}")


def check_option(problems: Problems, option: object, path: str, *, allow_mrkdwn: bool = False) -> None:
    """Selects take plain_text options only; checkboxes and radio buttons also take mrkdwn."""
    if not isinstance(option, Mapping):
        problems.add(path, "must be an option object")
        return
    plain_only = not allow_mrkdwn
    check_text_object(problems, option.get("text"), f"{path}.text", max_length=75, plain_only=plain_only)
    check_string(problems, option.get("value"), f"{path}.value", 150, required=True)
    if option.get("description") is not None:
        check_text_object(problems, option["description"], f"{path}.description", max_length=75,
                          plain_only=plain_only)
    check_string(problems, option.get("url"), f"{path}.url", 3000)


def check_options(
    problems: Problems, options: object, path: str, *, max_count: int, min_count: int = 1,
    allow_mrkdwn: bool = False,
) -> None:
    """A list of options; Slack also refuses two options with one value (it could not tell them apart)."""
    if not isinstance(options, list):
        problems.add(path, "must be a list of options")
        return
    if not min_count <= len(options) <= max_count:
        problems.add(path, f"{len(options)} options, allowed {min_count}..{max_count}")
    values: set[str] = set()
    for index, option in enumerate(options):
        check_option(problems, option, f"{path}[{index}]", allow_mrkdwn=allow_mrkdwn)
        value = option.get("value") if isinstance(option, Mapping) else None
        if isinstance(value, str):
            if value in values:
                problems.add(f"{path}[{index}].value", f"duplicate option value {value!r}")
            values.add(value)


def check_confirm(problems: Problems, confirm: object, path: str) -> None:
    """The "are you sure?" dialog on a button or select."""
    if not isinstance(confirm, Mapping):
        problems.add(path, "must be a confirmation dialog object")
        return
    check_text_object(problems, confirm.get("title"), f"{path}.title", max_length=100, plain_only=True)
    check_text_object(problems, confirm.get("text"), f"{path}.text", max_length=300)
    check_text_object(problems, confirm.get("confirm"), f"{path}.confirm", max_length=30, plain_only=True)
    check_text_object(problems, confirm.get("deny"), f"{path}.deny", max_length=30, plain_only=True)


def check_element(problems: Problems, element: object, path: str) -> None:
    """Any interactive (or image) element: an accessory, an actions element or an input's element."""
    if not isinstance(element, Mapping):
        problems.add(path, "must be an element object")
        return
    kind = element.get("type")
    if kind not in SELECT_TYPES and kind not in OTHER_ELEMENT_TYPES:
        problems.add(f"{path}.type", f"unknown element type {kind!r}")
        return
    if kind == "image":
        if element.get("image_url") is None and element.get("slack_file") is None:
            problems.add(path, "an image needs image_url or slack_file")
        check_string(problems, element.get("image_url"), f"{path}.image_url", 3000)
        check_string(problems, element.get("alt_text"), f"{path}.alt_text", 2000, required=True)
        return
    check_string(problems, element.get("action_id"), f"{path}.action_id", ACTION_ID_MAX)
    if element.get("placeholder") is not None:
        check_text_object(problems, element["placeholder"], f"{path}.placeholder", max_length=PLACEHOLDER_MAX,
                          plain_only=True)
    if element.get("confirm") is not None:
        check_confirm(problems, element["confirm"], f"{path}.confirm")
    checker = _ELEMENT_CHECKS.get(kind)
    if checker is not None:
        checker(problems, element, path)


def _button(problems: Problems, element: Mapping[str, Any], path: str) -> None:
    check_text_object(problems, element.get("text"), f"{path}.text", max_length=75, plain_only=True)
    check_string(problems, element.get("value"), f"{path}.value", 2000)
    check_string(problems, element.get("url"), f"{path}.url", 3000)
    style = element.get("style")
    if style is not None and style not in ("primary", "danger"):
        problems.add(f"{path}.style", f"must be 'primary' or 'danger', got {style!r}")


def _select(problems: Problems, element: Mapping[str, Any], path: str) -> None:
    if element.get("type") not in ("static_select", "multi_static_select"):
        return
    options, groups = element.get("options"), element.get("option_groups")
    if (options is None) == (groups is None):
        problems.add(path, "needs exactly one of options or option_groups")
    if options is not None:
        check_options(problems, options, f"{path}.options", max_count=100)
    if groups is not None:
        if not isinstance(groups, list) or len(groups) > 100:
            problems.add(f"{path}.option_groups", "must be a list of at most 100 groups")
        else:
            for index, group in enumerate(groups):
                group_path = f"{path}.option_groups[{index}]"
                group = group if isinstance(group, Mapping) else {}
                check_text_object(problems, group.get("label"), f"{group_path}.label", max_length=75,
                                  plain_only=True)
                check_options(problems, group.get("options"), f"{group_path}.options", max_count=100)
    if element.get("initial_option") is not None:
        check_option(problems, element["initial_option"], f"{path}.initial_option")


def _overflow(problems: Problems, element: Mapping[str, Any], path: str) -> None:
    check_options(problems, element.get("options"), f"{path}.options", min_count=1, max_count=5)


def _choices(problems: Problems, element: Mapping[str, Any], path: str) -> None:
    check_options(problems, element.get("options"), f"{path}.options", max_count=10, allow_mrkdwn=True)


def _text_input(problems: Problems, element: Mapping[str, Any], path: str) -> None:
    """Slack refuses a modal whose text input contradicts itself (initial value longer than its max)."""
    min_length, max_length = element.get("min_length"), element.get("max_length")
    for name, bound in (("min_length", min_length), ("max_length", max_length)):
        if bound is not None and (not isinstance(bound, int) or not 0 <= bound <= TEXT_INPUT_MAX):
            problems.add(f"{path}.{name}", f"must be an integer in 0..{TEXT_INPUT_MAX}, got {bound!r}")
    if isinstance(min_length, int) and isinstance(max_length, int) and min_length > max_length:
        problems.add(path, f"min_length {min_length} > max_length {max_length}")
    limit = max_length if isinstance(max_length, int) else TEXT_INPUT_MAX
    check_string(problems, element.get("initial_value"), f"{path}.initial_value", limit)


_ELEMENT_CHECKS = {
    "button": _button,
    "overflow": _overflow,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "plain_text_input": _text_input,
    **{kind: _select for kind in SELECT_TYPES},
}
