"""What Slack refuses before it does anything: the wrong method, arguments or payload shape.

Every refusal here is a bug in the caller (never a condition code should handle at run time), so the
stand-in also records each one as a violation for the test to fail on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desk.sandbox import blockkit
from desk.sandbox.api_reference import ApiReference

MESSAGE_METHODS = frozenset({
    "chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage",
})
VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})
JSON_STRING_ARGS = ("blocks", "view", "attachments", "metadata", "files")
TEXT_ARGS = ("text", "blocks", "attachments", "markdown_text")
RESPONSE_URL_KEYS = frozenset({
    "text", "blocks", "attachments", "response_type", "replace_original", "delete_original", "thread_ts",
    "mrkdwn", "unfurl_links", "unfurl_media", "metadata",
})


@dataclass(frozen=True)
class Rejection:
    """An `ok: false` answer with Slack's error code and the problems behind it."""

    error: str
    problems: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.problems:
            body["response_metadata"] = {"messages": [f"[ERROR] {problem}" for problem in self.problems]}
        return body


def decode_json_strings(args: dict[str, Any]) -> dict[str, Any]:
    """Form bodies carry blocks and views as JSON strings; record and check them as the structures they are.

    A string that is not JSON stays a string, for the Block Kit check to report as malformed.
    """
    decoded = dict(args)
    for name in JSON_STRING_ARGS:
        value = decoded.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                decoded[name] = json.loads(value)
            except json.JSONDecodeError:
                pass
    return decoded


def check_api_call(
    reference: ApiReference, method: str, args: Mapping[str, Any], *, token: str | None, is_json: bool
) -> Rejection | None:
    """The first reason Slack would refuse this call, in the order Slack checks."""
    spec = reference.method(method)
    if spec is None:
        return Rejection("unknown_method", [f"no Web API method `{method}`"])
    if not token:
        return Rejection("not_authed", ["no token (Authorization: Bearer header or `token` argument)"])
    if is_json and not spec.json_input_supported:
        return Rejection("invalid_arguments", ["this method does not accept a JSON body; send a form"])
    problems = reference.argument_problems(spec, dict(args))
    if problems:
        return Rejection("invalid_arguments", problems)
    if method in MESSAGE_METHODS:
        return _check_message(args)
    if method in VIEW_METHODS:
        view = args.get("view")
        if isinstance(view, str):
            return Rejection("invalid_arguments", ["view: not a JSON object"])
        problems = blockkit.check_view(view)
        return Rejection("invalid_arguments", problems) if problems else None
    if method == "files.completeUploadExternal" and args.get("blocks") is not None:
        return _check_blocks(args["blocks"])
    return None


def _check_message(args: Mapping[str, Any]) -> Rejection | None:
    if not any(args.get(name) not in (None, "", []) for name in TEXT_ARGS):
        return Rejection("no_text", ["a message needs text, blocks or attachments"])
    too_long = blockkit.check_message_text(args.get("text"))
    if too_long:
        return Rejection("msg_too_long", too_long)
    if args.get("blocks") is not None:
        return _check_blocks(args["blocks"])
    return None


def _check_blocks(blocks: object) -> Rejection | None:
    if isinstance(blocks, str):
        return Rejection("invalid_blocks_format", ["blocks: not a JSON array"])
    problems = blockkit.check_blocks(blocks)
    return Rejection("invalid_blocks", problems) if problems else None


def check_response_url_body(body: object) -> Rejection | None:
    """A response_url message: the same Block Kit rules, and only the keys Slack reads there."""
    if not isinstance(body, Mapping):
        return Rejection("invalid_payload", ["body: not a JSON object"])
    unknown = sorted(set(body) - RESPONSE_URL_KEYS)
    if unknown:
        return Rejection("invalid_payload", [f"unknown key `{name}`" for name in unknown])
    response_type = body.get("response_type")
    if response_type is not None and response_type not in ("in_channel", "ephemeral"):
        return Rejection("invalid_payload", [f"response_type: {response_type!r}"])
    if body.get("delete_original") in (True, "true"):
        return None
    return _check_message(body)
