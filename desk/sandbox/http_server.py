"""The HTTP side of the stand-in: routes, body decoding, and writing (or deliberately not writing) answers.

Slack's Web API takes form bodies, JSON bodies (`Content-Type: application/json`, token in the
Authorization header) and query strings alike, and slack_sdk uses all three, so the handler folds them into
one argument dict before the stand-in sees the call.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from desk.sandbox.slack_api import SlackStandIn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What to send back: a status, headers and body, or nothing at all (a dropped connection)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Outcome:
        content = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(body).encode(), content)

    @classmethod
    def text(cls, status: int, body: str) -> Outcome:
        return cls(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    @classmethod
    def dropped(cls) -> Outcome:
        return cls(0, drop=True)

    def parsed_body(self) -> dict[str, Any]:
        """The body as recorded in a Call: JSON answers decoded, text answers under "text"."""
        if self.drop:
            return {}
        if self.headers.get("Content-Type", "").startswith("application/json"):
            parsed: dict[str, Any] = json.loads(self.body)
            return parsed
        return {"text": self.body.decode()}


class StandInServer(ThreadingHTTPServer):
    """One thread per request, so an injected latency on one call does not stall the others."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], stand_in: SlackStandIn) -> None:
        self.stand_in = stand_in
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) breaks the pipe mid-answer; that is expected, not news."""
        log.debug("slack stand-in: client %s went away", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: StandInServer

    def do_POST(self) -> None:
        self._route()

    def do_GET(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        section, _, rest = url.path.lstrip("/").partition("/")
        body = self._read_body()
        if body is None:
            return
        stand_in = self.server.stand_in
        if section == "api":
            args, is_json, problem = _decode_args(body, self.headers.get("Content-Type", ""), url.query)
            token = self._token(args)
            self._send(stand_in.answer_api(rest, args, token=token, is_json=is_json, body_error=problem))
        elif section == "hooks":
            try:
                payload: object = json.loads(body or b"null")
            except json.JSONDecodeError:
                payload = body.decode(errors="replace")
            self._send(stand_in.answer_hook(url.path, payload))
        elif section == "upload" and rest:
            self._send(stand_in.answer_upload(rest, body))
        else:
            self._send(Outcome.text(404, "not_found"))

    def _read_body(self) -> bytes | None:
        """The whole body, or None when the client went away before sending all it announced.

        http.client sends the headers and the body in two writes, so a client killed between them leaves a
        request with its Content-Length and no body. Slack never acts on half a request: nothing is answered
        or recorded (acting on it would record arguments the client never sent).
        """
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            log.debug("slack stand-in: %s sent %d of %d bytes, then went away", self.path, len(body), length)
            self.close_connection = True
            return None
        return body

    def _token(self, args: dict[str, Any]) -> str | None:
        """Bearer header first (slack_sdk's way), else a `token` argument (taken out of the args)."""
        form_token = args.pop("token", None)
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Bearer ") and authorization[7:].strip():
            return authorization[7:].strip()
        return str(form_token) if form_token else None

    def _send(self, outcome: Outcome) -> None:
        if outcome.drop:
            self.close_connection = True  # the handler returns without a byte written: the socket just closes
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        self.wfile.write(outcome.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack stand-in: " + format, *args)


def _decode_args(body: bytes, content_type: str, query: str) -> tuple[dict[str, Any], bool, str | None]:
    """(arguments, sent as JSON?, error) from the query string plus a form or JSON body."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    is_json = content_type.split(";")[0].strip().lower() == "application/json"
    if is_json:
        try:
            decoded = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return args, True, "invalid_json"
        if not isinstance(decoded, dict):
            return args, True, "json_not_object"
        args.update(decoded)
    elif body:
        args.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return args, is_json, None
