"""Finding the element a person used in a message or view, and turning their choices into Slack's shapes.

A click names an `action_id`; Slack sends the block it sat in, the element's type and what was chosen
(a button's value, a select's option object, a user id). A submitted modal sends `state.values`, each entry
typed by its element. These functions read the message or view desk posted and answer in those shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Element = dict[str, Any]


class FormError(ValueError):
    """What the person chose does not fit the message or view (no such button, no such option)."""


def elements(blocks: list[dict[str, Any]] | None) -> Iterator[tuple[str, Element]]:
    """(block_id, element) for every interactive element: actions, section accessories, inputs."""
    for block in blocks or []:
        block_id = str(block.get("block_id") or "")
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                yield block_id, element
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            yield block_id, block["accessory"]
        elif block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield block_id, block["element"]


def find(blocks: list[dict[str, Any]] | None, action_id: str, value: str | None) -> tuple[str, Element]:
    """The element with `action_id` (for buttons sharing one, the one whose value is `value`)."""
    found = [(block_id, e) for block_id, e in elements(blocks) if e.get("action_id") == action_id]
    if not found:
        known = sorted({str(e.get("action_id")) for _, e in elements(blocks)})
        raise FormError(f"no element with action_id {action_id!r} there (it has: {', '.join(known) or 'none'})")
    if value is not None and len(found) > 1:
        found = [(b, e) for b, e in found if e.get("value") == value] or found
    return found[0]


def options(element: Element) -> list[dict[str, Any]]:
    listed = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        listed += group.get("options") or []
    return listed


def option(element: Element, value: str) -> dict[str, Any]:
    for candidate in options(element):
        if candidate.get("value") == value:
            return candidate
    offered = ", ".join(str(o.get("value")) for o in options(element))
    raise FormError(f"{element.get('action_id')}: no option {value!r} (options: {offered or 'none'})")


def action(element: Element, block_id: str, value: str | None) -> dict[str, Any]:
    """The `actions[0]` Slack sends for a click on `element` (choosing `value` in a select)."""
    kind = str(element.get("type"))
    sent: dict[str, Any] = {"action_id": element["action_id"], "block_id": block_id, "type": kind}
    if kind == "button":
        sent["text"] = element.get("text") or {"type": "plain_text", "text": ""}
        if element.get("value") is not None:
            sent["value"] = element["value"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        if value is None:
            raise FormError(f"{element['action_id']}: choose an option (`value`)")
        sent["selected_option"] = option(element, value)
    elif kind in ("users_select", "conversations_select", "channels_select"):
        if not value:
            raise FormError(f"{element['action_id']}: choose someone (`value`: a user id)")
        field = {"users_select": "selected_user", "conversations_select": "selected_conversation",
                 "channels_select": "selected_channel"}[kind]
        sent[field] = value
    else:
        raise FormError(f"{element['action_id']}: a {kind} cannot be clicked in the sandbox")
    return sent


def state_values(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`values` ({block_id: {action_id: value}}) as `view.state.values`, typed by the view's inputs."""
    if not isinstance(values, Mapping):
        raise FormError("values must be an object: {block_id: {action_id: value}}")
    by_key = {(block_id, e.get("action_id")): e for block_id, e in elements(view.get("blocks"))}
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        if not isinstance(actions, Mapping):
            raise FormError(f"values.{block_id} must be an object: {{action_id: value}}")
        for action_id, value in actions.items():
            element = by_key.get((block_id, action_id))
            if element is None:
                raise FormError(f"the view has no input {block_id}.{action_id}")
            state.setdefault(block_id, {})[action_id] = _typed(element, value)
    for (block_id, action_id), element in by_key.items():  # inputs left empty are sent empty, as Slack does
        if element.get("type") == "plain_text_input":
            state.setdefault(block_id, {}).setdefault(str(action_id), {"type": "plain_text_input", "value": None})
    return state


def _typed(element: Element, value: Any) -> dict[str, Any]:
    kind = str(element.get("type"))
    empty = value in (None, "")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return {"type": kind, "value": None if empty else str(value)}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": None if empty else option(element, str(value))}
    if kind == "checkboxes":
        chosen = value if isinstance(value, list) else [] if empty else [value]
        return {"type": kind, "selected_options": [option(element, str(v)) for v in chosen]}
    if kind == "users_select":
        return {"type": kind, "selected_user": None if empty else str(value)}
    if kind == "datepicker":
        return {"type": kind, "selected_date": None if empty else str(value)}
    raise FormError(f"{element.get('action_id')}: a {kind} input is not supported by the sandbox")
