"""The HTTP face of desk: `POST /slack/events` (Bolt), `GET /healthz` and `GET /metrics`, as one WSGI app.

Before Bolt sees a request, it is checked here: a bad or stale signature gets 401, a body that is not what
Slack sends (broken JSON, a form without a payload, an oversize body) gets 400/413, each with a log line,
never a 500 and never a side effect. `/healthz` and `/metrics` are for the platform (load balancer,
Prometheus) and are not signed; keep them off the public route if that matters where desk runs.

Each Slack request runs under a request id (Slack's `event_id` or `trigger_id` when the body has one, so a
redelivery shares it; else `X-Request-Id` or a fresh one): every log line it causes carries it, including
those of the work after the ack. It is counted in `desk_requests_total{type, outcome}` and, when Bolt
answered it, timed in `desk_ack_seconds{type}`.

While the database is known to be unreachable (`database()` names why; it never touches the database),
a signed, well-formed request that would need it is answered here without Bolt, at once, with nothing
written, and each kind so that nothing is lost:

- an event gets 503, so Slack delivers it again later (its retries carry the same `event_id`);
- a slash command gets an ephemeral "desk cannot reach its database, so nothing was saved" answer;
- a modal submission gets that error on the form, which stays open with what was typed;
- a button or shortcut is acked and the person is told, through `response_url` or a small modal.

A request that arrives before desk has noticed is acked as usual; its work after the ack waits for the
database (events and submissions, `desk.db.outage.patiently`) or tells the person it failed (the rest).
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from desk.observability import logs, metrics
from desk.slack.context import UNREACHABLE_TEXT
from desk.slack.ids import Action

log = logging.getLogger("desk.web")

MAX_BODY = 1_000_000
EVENTS_PATH = "/slack/events"

Health = Callable[[], tuple[bool, dict]]
DatabaseProblem = Callable[[], str | None]  # None while the database is reachable, else why not
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class DeskWsgi:
    def __init__(self, app: App, signing_secret: str, health: Health,
                 metrics_registry: CollectorRegistry | None = None, *,
                 pages: Mapping[str, WsgiApp] | None = None, api: WsgiApp | None = None,
                 database: DatabaseProblem | None = None, notices: Executor | None = None):
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.client = app.client
        self.database = database
        self.notices = notices  # where "desk cannot reach its database" notices are sent, after the ack
        self.verifier = SignatureVerifier(signing_secret)
        self.health = health
        self.metrics_registry = metrics_registry
        self.pages = dict(pages or {})  # path -> a WSGI app with its own authority (signed report links)
        self.api = api  # everything under /api/: the council API (desk/api/app.py), bearer tokens

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path in self.pages:  # not from Slack, so not Slack-signed: each page checks its own credential
            return self.pages[path](environ, start_response)
        if path.startswith("/api/") and self.api is not None:  # the council API checks its own tokens
            return self.api(environ, start_response)
        if path == "/healthz" and method == "GET":
            ok, detail = self.health()
            return _reply(start_response, 200 if ok else 503, detail)
        if path == "/metrics" and method == "GET" and self.metrics_registry is not None:
            body, content_type = metrics.exposition(self.metrics_registry)
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        if path != EVENTS_PATH:
            return _reply(start_response, 404, {"ok": False, "error": "not_found"})
        if method != "POST":
            return _reply(start_response, 405, {"ok": False, "error": "method_not_allowed"})
        return self._slack(environ, start_response)

    def _slack(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """One request from Slack: checked, handed to Bolt, counted, timed, logged under its request id."""
        started = time.perf_counter()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        body = environ["wsgi.input"].read(length) if 0 < length <= MAX_BODY else b""
        kind, slack_id = describe(body, environ.get("CONTENT_TYPE", ""))
        request_id = slack_id or environ.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex[:12]
        status: list[int] = []

        def recording_start_response(status_line: str, headers: list, exc_info=None):
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, exc_info)

        with logs.bind(request_id=request_id):
            result, acked = self._check_and_handle(environ, recording_start_response, body, length)
            elapsed = time.perf_counter() - started
            code = status[-1] if status else 500
            outcome = metrics.outcome_of(code)
            metrics.REQUESTS.labels(type=kind, outcome=outcome).inc()
            if acked:
                metrics.ACK_SECONDS.labels(type=kind).observe(elapsed)
            retry = environ.get("HTTP_X_SLACK_RETRY_NUM")
            log.info("%s %s %s in %.1f ms%s", kind, code, outcome, elapsed * 1000,
                     f" (Slack retry {retry})" if retry else "")
        return result

    def _check_and_handle(self, environ: dict, start_response: Callable, body: bytes,
                          length: int) -> tuple[Iterable[bytes], bool]:
        """The answer, and whether Bolt gave it (the request was signed and well formed)."""
        if length < 0 or length > MAX_BODY:
            log.warning("rejected: body length %s", environ.get("CONTENT_LENGTH"))
            return _reply(start_response, 413, {"ok": False, "error": "payload_too_large"}), False
        headers = {"x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                   "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", "")}
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("rejected: body is not UTF-8")
            return _reply(start_response, 400, {"ok": False, "error": "malformed_payload"}), False
        if not self._signed(body, headers):
            log.warning("rejected: bad or stale signature")
            return _reply(start_response, 401, {"ok": False, "error": "invalid_signature"}), False
        problem = malformed(body, environ.get("CONTENT_TYPE", ""))
        if problem:
            log.warning("rejected: malformed payload: %s", problem)
            answer = {"ok": False, "error": "malformed_payload", "detail": problem}
            return _reply(start_response, 400, answer), False
        problem = self.database() if self.database is not None else None
        if problem is not None:
            answered = self._without_database(body, environ.get("CONTENT_TYPE", ""), start_response, problem)
            if answered is not None:
                return answered, False
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return self.bolt(environ, start_response), True
        except Exception:
            log.exception("rejected: Bolt could not handle the payload")
            return _reply(start_response, 400, {"ok": False, "error": "unhandled_payload"}), False

    def _without_database(self, body: bytes, content_type: str, start_response: Callable,
                          problem: str) -> Iterable[bytes] | None:
        """The answer to a request that needs the database while it is unreachable; None if it needs none."""
        if content_type.startswith("application/json"):
            document = json.loads(body)
            if document.get("type") != "event_callback":
                return None  # url_verification and the like answer without the database
            log.warning("database unreachable (%s): event answered 503 so that Slack delivers it again", problem)
            return _reply(start_response, 503, {"ok": False, "error": "database_unavailable",
                                                "detail": "desk cannot reach its database: deliver this again"})
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        if "command" in form:
            log.warning("database unreachable (%s): %s answered that nothing was saved", problem,
                        form["command"][0])
            return _reply(start_response, 200, {"response_type": "ephemeral", "text": UNREACHABLE_TEXT})
        if "payload" not in form:
            return None
        payload = json.loads(form["payload"][0])
        kind = payload.get("type")
        if kind == "view_submission":
            blocks = (payload.get("view") or {}).get("blocks")
            block = next((b["block_id"] for b in (blocks if isinstance(blocks, list) else [])
                          if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("block_id"), str)),
                         None)
            log.warning("database unreachable (%s): modal submission refused on the form", problem)
            if block is None:
                return _reply(start_response, 503, {"ok": False, "error": "database_unavailable"})
            return _reply(start_response, 200, {"response_action": "errors", "errors": {block: UNREACHABLE_TEXT}})
        if kind not in ("block_actions", "shortcut", "message_action"):
            return None  # view_closed and the like: nothing to save
        actions = payload.get("actions") or [{}]
        if kind == "block_actions" and actions[0].get("action_id") == Action.OPEN_TICKET:
            return None  # a link button: Slack opens the link, desk does nothing
        log.warning("database unreachable (%s): %s acked, the person told nothing was saved", problem, kind)
        if self.notices is not None:
            self.notices.submit(self._tell_unreachable, payload)
        return _reply(start_response, 200, {"ok": True})

    def _tell_unreachable(self, payload: dict) -> None:
        """Tell the person who clicked: in the conversation (response_url) if there is one, else in a modal."""
        try:
            if payload.get("response_url"):
                WebhookClient(payload["response_url"], timeout=5).send(
                    text=UNREACHABLE_TEXT, response_type="ephemeral", replace_original=False)
            elif payload.get("trigger_id"):
                self.client.views_open(trigger_id=payload["trigger_id"], view={
                    "type": "modal", "title": {"type": "plain_text", "text": "desk"},
                    "close": {"type": "plain_text", "text": "Close"},
                    "blocks": [{"type": "section", "text": {"type": "plain_text", "text": UNREACHABLE_TEXT}}]})
        except Exception as err:  # Slack unreachable too, or the trigger expired: the log line is all there is
            log.warning("could not tell the person the database is unreachable: %s", err)

    def _signed(self, body: bytes, headers: dict[str, str]) -> bool:
        timestamp = headers["x-slack-request-timestamp"]
        if not timestamp.isdigit() or not headers["x-slack-signature"].startswith("v0="):
            return False
        return self.verifier.is_valid_request(body, headers)


PAYLOAD_TYPES = {"block_actions", "view_submission", "shortcut", "message_action"}


def describe(body: bytes, content_type: str) -> tuple[str, str | None]:
    """What a body is (a `desk_requests_total` type) and Slack's own id for it (event_id or trigger_id),
    as far as can be told without trusting it; never raises."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            document = json.loads(text)
            if not isinstance(document, dict):
                return "other", None
            kind = {"event_callback": "event", "url_verification": "url_verification"}.get(
                str(document.get("type")), "other")
            return kind, _id(document.get("event_id"))
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            payload = json.loads(form["payload"][0])
            if not isinstance(payload, dict):
                return "other", None
            kind = str(payload.get("type"))
            return (kind if kind in PAYLOAD_TYPES else "other"), _id(payload.get("trigger_id"))
        if "command" in form:
            return "command", _id(form.get("trigger_id", [None])[0])
    except (UnicodeDecodeError, ValueError):
        pass
    return "other", None


def _id(value: object) -> str | None:
    """An id from the body, if it looks like one (it goes into every log line of the request)."""
    if isinstance(value, str) and 0 < len(value) <= 64 and value.replace(".", "").replace("-", "").isalnum():
        return value
    return None


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
        if document["type"] == "event_callback":
            event_id = document.get("event_id")
            if event_id is not None and not (isinstance(event_id, str) and 0 < len(event_id) <= ID_MAX):
                return f"an event_id that is not a string of at most {ID_MAX} characters"
            return _event_problem(document["event"])
        return None
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError as err:
            return f"payload is not JSON: {err}"
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "payload must be an object with a type"
        if not isinstance(payload.get("user"), dict) or not isinstance(payload["user"].get("id"), str):
            return "payload without a user id"
        if "response_url" in payload and not _is_url(payload["response_url"]):
            return "payload with a response_url that is not an http(s) URL"
        return _interaction_problem(payload)
    if form.get("ssl_check"):
        return None
    if "command" in form:
        missing = [k for k in ("user_id", "trigger_id", "response_url") if not form.get(k, [""])[0]]
        if missing:
            return f"command without {', '.join(missing)}"
        if not _is_trigger(form["trigger_id"][0]):
            return "command with a trigger_id that is not Slack's"
        return None if _is_url(form["response_url"][0]) else "command with a response_url that is not a URL"
    return "neither an event, a command nor an interaction"


ID_MAX = 100  # Slack's ids and timestamps are far shorter; desk records deliveries by them (VARCHAR(200))

# The events desk listens to, and their fields it reads, which Slack always sends as strings when present.
EVENT_STRINGS = {
    "message": ("user", "channel", "ts", "thread_ts", "text", "subtype", "bot_id", "user_team", "source_team",
                "team"),
    "app_mention": ("user", "channel", "ts", "thread_ts", "text", "user_team", "source_team", "team"),
    "reaction_added": ("user", "reaction", "item_user", "user_team"),
    "app_home_opened": ("user", "channel", "tab", "user_team", "source_team", "team"),
}


def _event_problem(event: dict) -> str | None:
    """What an event desk listens to has of the wrong type (a list where its text goes, say)."""
    kind = event.get("type")
    if not isinstance(kind, str):
        return "an event without a type"
    wrong = [f"event.{key}" for key in EVENT_STRINGS.get(kind, ()) if not isinstance(event.get(key), str | None)]
    if any(len(event.get(key) or "") > ID_MAX for key in ("ts", "thread_ts") if isinstance(event.get(key), str)):
        wrong.append("event.ts")  # Slack's are 17 characters; desk keys deliveries and tickets by them
    if kind == "reaction_added" and not event.get("user"):
        wrong.append("event.user")  # whose reaction it is decides the tenant: Slack always names them
    item = event.get("item")
    if kind == "reaction_added" and not isinstance(item, dict):
        wrong.append("event.item")
    elif kind == "reaction_added":
        wrong += [f"event.item.{key}" for key in ("type", "channel", "ts") if not isinstance(item.get(key), str | None)]
    return f"{kind} event with {', '.join(wrong)} of the wrong type" if wrong else None


# Fields of interactions desk reads, which Slack always sends as strings when present.
INTERACTION_STRINGS = (
    "user.id", "user.team_id", "team.id", "team.enterprise_id", "channel.id", "container.channel_id", "container.message_ts",
    "container.thread_ts", "message.ts", "message.user", "message.text", "view.id", "view.private_metadata",
    "callback_id", "response_url",
)


def _at(document: dict, path: str) -> object:
    found: object = document
    for key in path.split("."):
        found = found.get(key) if isinstance(found, dict) else None
    return found


def _interaction_problem(payload: dict) -> str | None:
    """What an interaction lacks that Bolt reads before any listener runs (it would answer 500)."""
    kind = payload["type"]
    wrong = [key for key in ("channel", "container", "message", "team", "view", "state")
             if payload.get(key) is not None and not isinstance(payload[key], dict)]
    if wrong:
        return f"{kind} with {', '.join(wrong)} that should be objects"
    if not payload["user"]["id"]:
        return f"{kind} with an empty user id"
    actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    fields = [(path, _at(payload, path)) for path in INTERACTION_STRINGS]
    fields += [(f"actions[{i}].{key}", a.get(key)) for i, a in enumerate(actions) if isinstance(a, dict)
               for key in ("value", "selected_user", "block_id")]
    fields += [(f"actions[{i}].selected_option", a.get("selected_option")) for i, a in enumerate(actions)
               if isinstance(a, dict) and a.get("selected_option") is not None
               and not isinstance(a["selected_option"], dict)]
    wrong = [path for path, found in fields if not isinstance(found, str | None)]
    if wrong:
        return f"{kind} with {', '.join(wrong)} of the wrong type"
    if len(_at(payload, "view.id") or "") > ID_MAX:
        return f"{kind} with a view id over {ID_MAX} characters"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(
                isinstance(action, dict) and isinstance(action.get("action_id"), str) for action in actions):
            return "block_actions without a list of actions, each with an action_id"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not all(isinstance(view.get(key), str) for key in ("type", "callback_id")):
            return f"{kind} without a view object with a type and a callback_id"
    if kind in ("shortcut", "message_action") and not isinstance(payload.get("callback_id"), str):
        return f"{kind} without a callback_id"
    if kind in ("block_actions", "shortcut", "message_action") and not _is_trigger(payload.get("trigger_id")):
        return f"{kind} without a trigger_id"  # Slack always sends one: a modal can only be opened with it
    return None


TRIGGER_ID = re.compile(r"^[0-9]+\.[0-9]+\.[0-9A-Za-z]+$")  # Slack's shape: 13345224609.738474920.8088930838d8


def _is_trigger(value: object) -> bool:
    return isinstance(value, str) and TRIGGER_ID.match(value) is not None


def _is_url(value: object) -> bool:
    """A response_url desk can answer through (Slack's are https; the local stand-in's are http)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def _reply(start_response: Callable, status: int, document: dict) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
               413: "Payload Too Large", 503: "Service Unavailable"}
    body = json.dumps(document).encode()
    start_response(f"{status} {reasons.get(status, 'Error')}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
