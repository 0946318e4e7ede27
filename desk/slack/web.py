"""The HTTP face of desk: `POST /slack/events` (Bolt), `GET /healthz` and `GET /metrics`, as one WSGI app.

This module routes (Slack, the council API, signed pages, operations); `desk.slack.checks` judges. Before
Bolt sees a request, it is read (at most 1 MB, within DESK_REQUEST_TIMEOUT_SECONDS: 413/408 otherwise),
its signature checked on the raw bytes before anything of it is parsed (401), then its shape (400: broken
JSON, a form without a payload, JSON nested too deep), each refusal with one log line, never a 500 and
never a side effect. `/healthz` and `/metrics` are for the platform (load balancer, Prometheus) and are not
signed: with `ops_port` (DESK_OPS_PORT) they are served only on that internal port, and nothing else is.

Each Slack request runs under a request id (Slack's `event_id` or `trigger_id` when the body has one, so a
redelivery shares it; else `X-Request-Id` or a fresh one): every log line it causes carries it, including
those of the work after the ack. It is counted in `desk_requests_total{type, outcome}` and, when Bolt
answered it, timed in `desk_ack_seconds{type}`.

While the database is known to be unreachable (`database()` names why; it never touches the database),
a signed, well-formed request that would need it is answered here without Bolt, at once, with nothing
written, and each kind so that nothing is lost (`desk.slack.unreachable`, which Socket Mode uses too):

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
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from contextlib import nullcontext

from prometheus_client import CollectorRegistry
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler

from desk.clock import wall_seconds
from desk.db.engine import WouldWait
from desk.observability import logs, metrics
from desk.slack.checks import BodyRefused, Examined, examine, read_body, signed
from desk.slack.front import Front
from desk.slack.unreachable import NOT_TAKEN, tell_unreachable, without_database
from desk.turns import AcksFirst

log = logging.getLogger("desk.web")

EVENTS_PATH = "/slack/events"

Health = Callable[[], tuple[bool, dict]]
DatabaseProblem = Callable[[], str | None]  # None while the database is reachable, else why not
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

BODY_DEADLINE_SECONDS = 10.0  # Slack sends a body in milliseconds; a client slower than this is refused (408)
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 411: "Length Required", 413: "Payload Too Large", 503: "Service Unavailable"}
REFUSALS = {400: "malformed_request", 408: "request_timeout", 411: "length_required", 413: "payload_too_large"}


def local_port(environ: dict) -> int | None:
    """The port this request arrived on (the listening socket's, not the Host header's)."""
    sock = environ.get("gunicorn.socket")
    try:
        return int(sock.getsockname()[1]) if sock is not None else int(environ.get("SERVER_PORT") or 0)
    except (OSError, ValueError, TypeError, IndexError):
        return None


def _request_id(given: str) -> str:
    """The caller's X-Request-Id if it looks like one (it goes into every log line), else a fresh id."""
    return given if 0 < len(given) <= 64 and given.replace("-", "").replace(".", "").isalnum() \
        else uuid.uuid4().hex[:12]


class DeskWsgi:
    """Routes each request: Slack's endpoint, the council API, signed pages, and the operations endpoints
    (`/healthz`, `/metrics`), which move to their own port when `ops_port` is set (DESK_OPS_PORT)."""

    def __init__(self, app: App, signing_secret: str | None, health: Health,
                 metrics_registry: CollectorRegistry | None = None, *,
                 pages: Mapping[str, WsgiApp] | None = None, api: WsgiApp | None = None,
                 database: DatabaseProblem | None = None, notices: Executor | None = None,
                 ops_port: int | None = None, body_deadline_seconds: float = BODY_DEADLINE_SECONDS,
                 wall: Callable[[], float] = wall_seconds, front: Front | None = None,
                 turns: AcksFirst | None = None):
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.front = front  # acks given without Bolt (desk.slack.front); None: Bolt answers every request
        self.turns = turns  # the work that can wait waits while Slack's requests are answered (AcksFirst)
        self.client = app.client
        self.database = database
        self.notices = notices  # where "desk cannot reach its database" notices are sent, after the ack
        self.secret = signing_secret.encode() if signing_secret is not None else None  # None: Socket Mode
        self.wall = wall  # Slack's signature timestamps are wall time
        self.body_deadline_seconds = body_deadline_seconds
        self.health = health
        self.metrics_registry = metrics_registry
        self.pages = dict(pages or {})  # path -> a WSGI app with its own authority (signed report links)
        self.api = api  # everything under /api/: the council API (desk/api/app.py), bearer tokens
        self.ops_port = ops_port  # None: /healthz and /metrics on the main port, beside Slack's endpoint

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        on_ops_port = self.ops_port is not None and local_port(environ) == self.ops_port
        if on_ops_port or self.ops_port is None:
            answered = self._operations(path, method, start_response)
            if answered is not None or on_ops_port:  # the ops port serves nothing else
                return answered or _reply(start_response, 404, {"ok": False, "error": "not_found"})
        if path in self.pages:  # not from Slack, so not Slack-signed: each page checks its own credential
            return self.pages[path](environ, start_response)
        if path.startswith("/api/") and self.api is not None:  # the council API checks its own tokens
            return self.api(environ, start_response)
        if path != EVENTS_PATH:
            return _reply(start_response, 404, {"ok": False, "error": "not_found"})
        if self.secret is None:  # Socket Mode: Slack's requests arrive over the WebSocket, never here
            return _reply(start_response, 404, {"ok": False, "error": "not_found",
                                                "detail": "desk runs in Socket Mode: Slack does not POST here"})
        if method != "POST":
            return _reply(start_response, 405, {"ok": False, "error": "method_not_allowed"})
        if self.turns is None:
            return self._slack(environ, start_response)
        with self.turns.answering():
            return self._slack(environ, start_response)

    def _operations(self, path: str, method: str, start_response: Callable) -> Iterable[bytes] | None:
        """`/healthz` and `/metrics`, for the platform (load balancer, Prometheus); None for other paths."""
        if path == "/healthz" and method == "GET":
            ok, detail = self.health()
            return _reply(start_response, 200 if ok else 503, detail)
        if path == "/metrics" and method == "GET" and self.metrics_registry is not None:
            body, content_type = metrics.exposition(self.metrics_registry)
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [body]
        return None

    def _slack(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """One request from Slack: read (bounded), its signature checked before anything of it is parsed,
        then checked for shape, handed to Bolt, counted, timed, logged under its request id."""
        started = time.perf_counter()
        kind, slack_id = "other", None  # Slack's own id for the request, when the body has one
        status: list[int] = []

        def recording_start_response(status_line: str, headers: list, exc_info=None):
            status.append(int(status_line.split(" ", 1)[0]))
            return start_response(status_line, headers, exc_info)

        acked, seen = False, None
        try:
            body = read_body(environ, deadline_seconds=self.body_deadline_seconds)
        except BodyRefused as err:
            body, refused = b"", err
        else:
            refused = None
            if self._signed(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""), environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                            body):  # only now is anything of the body read, and only once
                seen = examine(body, environ.get("CONTENT_TYPE", ""))
                kind, slack_id = seen.kind, seen.slack_id
        with logs.bind(request_id=slack_id or _request_id(environ.get("HTTP_X_REQUEST_ID", ""))):
            if refused is not None:
                log.warning("rejected: %s", refused.reason)
                result = _reply(recording_start_response, refused.status,
                                {"ok": False, "error": REFUSALS.get(refused.status, "bad_request")})
            else:
                result, acked = self._check_and_handle(environ, recording_start_response, body, seen)
            _counted(kind, status[-1] if status else 500, started, acked, environ.get("HTTP_X_SLACK_RETRY_NUM"))
        return result

    def front_door(self, method: str, target: str, headers: Mapping[str, str], body: bytes,
                   port: int | None) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The answer to a request the server's loop read whole, given there, without a thread
        (desk.http_worker.BufferingWorker); None: it is served by `__call__` on a thread, as if this had
        never seen it, for nothing was written, counted or logged here.

        Only the common case is answered here, with the same answer, count and log line as `__call__`
        would give: Slack's endpoint, a signed and well-formed request that the front acks without Bolt
        (`Front.take`: an event stored in the inbox at once, with no other writer under way; a slash
        command, a button, a shortcut), while the database is not known to be unreachable. The rest
        (refusals, Bolt's answers, an event whose store would wait, a Slack retry) goes to a thread."""
        if (method != "POST" or target != EVENTS_PATH or self.secret is None or self.front is None
                or (self.ops_port is not None and port in (None, self.ops_port))):
            return None
        started = time.perf_counter()
        if not self._signed(headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", ""), body):
            return None
        seen = examine(body, headers.get("content-type", ""))
        if seen.problem or seen.request is None or (self.database is not None and self.database() is not None):
            return None
        retry = headers.get("x-slack-retry-num")
        with self.turns.answering() if self.turns is not None else nullcontext(), \
                logs.bind(request_id=seen.slack_id or _request_id(headers.get("x-request-id", ""))):
            try:
                taken = self.front.take(seen.request, body, retry, at_once=True)
            except WouldWait:
                return None
            if taken is None:
                return None
            answer = _wire(taken)
            _counted(seen.kind, taken.status, started, taken.status == 200, retry)
            metrics.LOOP_ACKS.labels(type=seen.kind).inc()
        return answer

    def _signed(self, timestamp: str, signature: str, body: bytes) -> bool:
        assert self.secret is not None  # reached only over HTTP
        return signed(self.secret, body, timestamp, signature, now=self.wall())

    def _check_and_handle(self, environ: dict, start_response: Callable, body: bytes,
                          seen: Examined | None) -> tuple[Iterable[bytes], bool]:
        """The answer, and whether Bolt gave it (the request was signed and well formed). `seen`: the
        signed body examined; None, not signed."""
        if seen is None:
            log.warning("rejected: bad, stale or missing signature")
            return _reply(start_response, 401, {"ok": False, "error": "invalid_signature"}), False
        if seen.problem:
            log.warning("rejected: malformed payload: %s", seen.problem)
            answer = {"ok": False, "error": "malformed_payload", "detail": seen.problem}
            return _reply(start_response, 400, answer), False
        problem = self.database() if self.database is not None else None
        if problem is not None and seen.request is not None:
            answered = self._without_database(seen.request, start_response, problem)
            if answered is not None:
                return answered, False
        if self.front is not None and seen.request is not None:
            taken = self.front.take(seen.request, body, environ.get("HTTP_X_SLACK_RETRY_NUM"))
            if taken is not None:
                return _answer(start_response, taken), taken.status == 200
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return self.bolt(environ, start_response), True
        except Exception:
            log.exception("rejected: Bolt could not handle the payload")
            return _reply(start_response, 400, {"ok": False, "error": "unhandled_payload"}), False

    def _without_database(self, request: tuple[str, dict], start_response: Callable,
                          problem: str) -> Iterable[bytes] | None:
        """The answer to a request that needs the database while it is unreachable; None if it needs none."""
        found = without_database(*request, problem)
        if found is None:
            return None
        if not found.taken:
            return _reply(start_response, 503, NOT_TAKEN if request[0] == "event" else {"ok": False,
                                                                                       "error": "database_unavailable"})
        if found.tell is not None and self.notices is not None:
            self.notices.submit(tell_unreachable, self.client, found.tell)
        return _reply(start_response, 200, found.answer or {"ok": True})


def _counted(kind: str, code: int, started: float, acked: bool, retry: str | None) -> None:
    """A Slack request's count, its ack's time (when it was acked) and its one log line."""
    elapsed = time.perf_counter() - started
    outcome = metrics.outcome_of(code)
    metrics.REQUESTS.labels(type=kind, outcome=outcome).inc()
    if acked:
        metrics.ACK_SECONDS.labels(type=kind).observe(elapsed)
    log.info("%s %s %s in %.1f ms%s", kind, code, outcome, elapsed * 1000,
             f" (Slack retry {str(retry)[:8]})" if retry else "")


def _wire(response: BoltResponse) -> tuple[str, list[tuple[str, str]], bytes]:
    """A Bolt response as HTTP sends it: status line, headers (its length among them), body."""
    body = response.body.encode()
    headers = [(name, value) for name, values in response.headers.items() if name.lower() != "content-length"
               for value in values]
    return f"{response.status} {REASONS.get(response.status, 'Error')}", [*headers, ("Content-Length", str(len(body)))], body


def _answer(start_response: Callable, response: BoltResponse) -> list[bytes]:
    """A Bolt response given without Bolt's adapter: an ack made in front of it."""
    status, headers, body = _wire(response)
    start_response(status, headers)
    return [body]


def _reply(start_response: Callable, status: int, document: dict) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(f"{status} {REASONS.get(status, 'Error')}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
