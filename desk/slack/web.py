"""The HTTP face of desk: `POST /slack/events` (Bolt) and `GET /healthz`, as one WSGI app.

Before Bolt sees a request, it is checked here: a bad or stale signature gets 401, a body that is not what
Slack sends (broken JSON, a form without a payload, an oversize body) gets 400/413, each with a log line,
never a 500 and never a side effect.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("desk.web")

MAX_BODY = 1_000_000
EVENTS_PATH = "/slack/events"

Health = Callable[[], tuple[bool, dict]]


class DeskWsgi:
    def __init__(self, app: App, signing_secret: str, health: Health):
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.verifier = SignatureVerifier(signing_secret)
        self.health = health

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        request_id = environ.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex[:12]
        if path == "/healthz" and method == "GET":
            ok, detail = self.health()
            return _reply(start_response, 200 if ok else 503, detail)
        if path != EVENTS_PATH:
            return _reply(start_response, 404, {"ok": False, "error": "not_found"})
        if method != "POST":
            return _reply(start_response, 405, {"ok": False, "error": "method_not_allowed"})
        started = time.perf_counter()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            log.warning("rejected %s: body length %s", request_id, environ.get("CONTENT_LENGTH"))
            return _reply(start_response, 413, {"ok": False, "error": "payload_too_large"})
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {"x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                   "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", "")}
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("rejected %s: body is not UTF-8", request_id)
            return _reply(start_response, 400, {"ok": False, "error": "malformed_payload"})
        if not self._signed(body, headers):
            log.warning("rejected %s: bad or stale signature", request_id)
            return _reply(start_response, 401, {"ok": False, "error": "invalid_signature"})
        problem = malformed(body, environ.get("CONTENT_TYPE", ""))
        if problem:
            log.warning("rejected %s: malformed payload: %s", request_id, problem)
            return _reply(start_response, 400, {"ok": False, "error": "malformed_payload", "detail": problem})
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            result = self.bolt(environ, start_response)
        except Exception:
            log.exception("rejected %s: Bolt could not handle the payload", request_id)
            return _reply(start_response, 400, {"ok": False, "error": "unhandled_payload"})
        log.debug("handled %s in %.1f ms", request_id, (time.perf_counter() - started) * 1000)
        return result


    def _signed(self, body: bytes, headers: dict[str, str]) -> bool:
        timestamp = headers["x-slack-request-timestamp"]
        if not timestamp.isdigit() or not headers["x-slack-signature"].startswith("v0="):
            return False
        return self.verifier.is_valid_request(body, headers)


def malformed(body: bytes, content_type: str) -> str | None:
    """What is wrong with a signed body, or None if it has the shape of something Slack sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    if content_type.startswith("application/json"):
        try:
            document = json.loads(text)
        except ValueError as err:
            return f"not JSON: {err}"
        if not isinstance(document, dict) or not isinstance(document.get("type"), str):
            return "a JSON body must be an object with a type"
        if document["type"] == "event_callback" and not isinstance(document.get("event"), dict):
            return "an event_callback without an event object"
        return None
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError as err:
            return f"payload is not JSON: {err}"
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "payload must be an object with a type"
        if not isinstance(payload.get("user"), dict):
            return "payload without a user"
        return None
    if form.get("ssl_check"):
        return None
    if "command" in form:
        missing = [k for k in ("user_id", "trigger_id") if not form.get(k, [""])[0]]
        return f"command without {', '.join(missing)}" if missing else None
    return "neither an event, a command nor an interaction"


def _reply(start_response: Callable, status: int, document: dict) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
               413: "Payload Too Large", 503: "Service Unavailable"}
    body = json.dumps(document).encode()
    start_response(f"{status} {reasons.get(status, 'Error')}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
