"""desk's Socket Mode connection: slack_sdk's built-in client, the Bolt app, and desk's rules for the ack.

Slack's Socket Mode: the app asks `apps.connections.open` (app-level token, `xapp-…`) for a WebSocket URL,
connects, and receives envelopes (`events_api`, `slash_commands`, `interactive`), each to be acked with its
`envelope_id` within 3 seconds. The transport is slack_sdk's `SocketModeClient` (reconnects on Slack's
`disconnect` messages, `refresh_requested` and `link_disabled` alike, and on a dropped socket: at once when
its read fails, or when its pings (every `ping_interval`) go unanswered four times); desk adds what that client and Bolt's `SocketModeHandler` do not:

- **No late ack.** Bolt's handler acks whenever the app answers, however late. Here each envelope is timed
  from when it arrived, and an answer ready after `ack_within` (2.5 s: Slack's 3 s less the way back) is not
  sent: for an event Slack delivers it again (the durable receipt makes that one effect), for a
  command or an interaction the person sees Slack's own failure instead of a confusing late answer.
- **Backoff.** A failed reconnection (Slack or the network down) is retried after 1, 2, 4 … up to 30 s,
  not in a tight loop.
- **Graceful stop.** `stop()` refuses new envelopes (not acked, so Slack delivers them again), lets those
  being dispatched finish and send their acks, then closes the connection; the work after each ack is
  drained by the caller (`desk.server.finish_work`).
- **The database unreachable.** While desk knows it cannot reach its database, each envelope that needs it
  is answered at once, without Bolt, as over HTTP (`desk.slack.unreachable`): an event is not acked (Slack
  delivers it again), a command answers that nothing was saved, a form keeps its values with that error.
- **The same accounting as HTTP.** Each envelope runs under a request id (the event_id or trigger_id), is
  counted in `desk_socket_mode_envelopes_total{type, outcome}` and, when acked, timed in
  `desk_ack_seconds{type}`, beside the HTTP requests.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection, ConnectionState
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from desk.errors import ConfigError
from desk.observability import logs, metrics
from desk.slack.checks import PAYLOAD_TYPES
from desk.slack.unreachable import Unreachable, tell_unreachable, without_database

log = logging.getLogger("desk.socket_mode")

ACK_WITHIN = 2.5  # seconds from an envelope's arrival: Slack's 3 s, less the way there and back
PING_INTERVAL = 2.0  # seconds: how often the client checks its connection (a dropped socket is noticed)
RECEIVE_BUFFER = 64 * 1024  # bytes per read: an envelope (often several KB) in one read, not slack_sdk's 1 KB
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0  # seconds between failed reconnections, doubling
JOIN_WITHIN = 5.0  # seconds `close()` gives each of the client's threads to end (its reader's reads time out after 3)
UNHEALTHY_AFTER = 60.0  # seconds without a connection before /healthz fails (a reconnection takes a second or two)
ENVELOPE_KINDS = {"events_api": "event", "slash_commands": "command", "interactive": "interaction"}
REFUSED_TOKEN = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive",
                           "token_revoked", "missing_scope"})  # apps.connections.open: no point retrying


class _Client(SocketModeClient):
    """slack_sdk's client, noting when each envelope arrived, backing off failed reconnections and stopping in
    bounded time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arrivals: dict[str, float] = {}
        self._arrivals_lock = threading.Lock()
        self._failures = 0
        self._not_before = 0.0
        self._live: tuple[Connection | None, ConnectionState] = (None, ConnectionState())  # what the reader reads
        super().__init__(*args, **kwargs)

    def enqueue_message(self, message: str) -> None:
        now = time.monotonic()
        envelope_id = _envelope_id(message)
        if envelope_id is not None:
            with self._arrivals_lock:
                self.arrivals[envelope_id] = now
        super().enqueue_message(message)

    def arrived(self, envelope_id: str) -> float | None:
        with self._arrivals_lock:
            return self.arrivals.pop(envelope_id, None)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        if self.closed:
            return
        if time.monotonic() < self._not_before:
            return  # backing off: the monitor calls again every ping_interval
        try:
            super().connect_to_new_endpoint(force)
        except Exception as err:
            self._failures += 1
            delay = min(BACKOFF_FIRST * 2 ** (self._failures - 1), BACKOFF_MAX)
            self._not_before = time.monotonic() + delay
            metrics.SOCKET_MODE_CONNECTIONS.labels(outcome="failed").inc()
            log.warning("Socket Mode: could not reconnect (%s: %s); trying again in %.0f s", type(err).__name__,
                        err, delay)
            return
        if self._failures:
            log.info("Socket Mode: reconnected after %s failed attempt(s)", self._failures)
        self._failures, self._not_before = 0, 0.0

    def _run_current_session(self) -> None:
        """slack_sdk's reader round (run every 0.1 s), except that a terminated session state stays terminated.
        slack_sdk's marks the state live again on each round: when `close()` had marked it terminated but
        closing the socket waited past the next round (an ack being written holds the send lock; a loaded
        machine), the reader started over on the closing session, never ended, and `close()`, joining it,
        hung for good. Each connection gets a fresh state (`connect`), so nothing needs the reset; the two
        are read as one pair, never a new session with the state its predecessor is about to end."""
        session, state = self._live
        if getattr(self, "closed", False) or session is None or state.terminated or not session.is_active():
            return
        try:
            session.run_until_completion(state)
        except Exception as err:
            self.logger.error(f"Failed to receive on the connection (session id: {session.session_id}, error: {err})")

    def close(self) -> None:
        """slack_sdk's, except that each of the client's threads gets `JOIN_WITHIN` seconds to end, not
        forever: a stop (SIGTERM, a deploy) never hangs on the connection."""
        self.closed = True
        self.auto_reconnect_enabled = False
        self.current_session_state.terminated = True
        self.disconnect()
        runners = (self.current_session_runner, self.current_app_monitor, self.message_processor)
        for runner in runners:
            runner.event.set()
        for runner in runners:
            if runner.thread is not None and runner.thread.is_alive():
                runner.thread.join(JOIN_WITHIN)
                if runner.thread.is_alive():
                    log.warning("Socket Mode: a client thread (%s) did not end within %.0f s; left behind",
                                runner.thread.name, JOIN_WITHIN)
        self.message_workers.shutdown()

    def connect(self) -> None:
        """slack_sdk's `connect`, except that the old connection is closed in the background: slack_sdk
        closes it inline, and that close waits for the old socket's reader, i.e. for Slack to close the old
        link, while every envelope behind the `disconnect` waits too, and its ack with it (past 3 s if
        Slack takes that long). Here the new connection takes over at once; envelopes still arriving on the
        old one are answered on the new one."""
        old_session, old_state = self.current_session, self.current_session_state
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = Connection(
            url=self.wss_uri, logger=self.logger, ping_interval=self.ping_interval,
            trace_enabled=self.trace_enabled, all_message_trace_enabled=self.all_message_trace_enabled,
            ping_pong_trace_enabled=self.ping_pong_trace_enabled, receive_buffer_size=self.receive_buffer_size,
            proxy=self.proxy, proxy_headers=self.proxy_headers, on_message_listener=self._on_message,
            on_error_listener=self._on_error, on_close_listener=self._on_close, ssl_context=self.web_client.ssl)
        session.connect()
        self.current_session, self.current_session_state = session, ConnectionState()
        self._live = (self.current_session, self.current_session_state)
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        if old_state is not None:
            old_state.terminated = True
        if old_session is not None:
            threading.Thread(target=old_session.close, name="socket-mode-old-link", daemon=True).start()
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        metrics.SOCKET_MODE_CONNECTIONS.labels(outcome="opened").inc()
        self.logger.info(f"A new session has been established (session id: {self.session_id()})")


def _envelope_id(message: str) -> str | None:
    if '"envelope_id"' not in message:
        return None
    try:
        found = json.loads(message).get("envelope_id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def describe(request: SocketModeRequest) -> tuple[str, str | None]:
    """The `desk_requests_total`-style type of an envelope and Slack's id for it (event_id or trigger_id)."""
    payload = request.payload if isinstance(request.payload, dict) else {}
    if request.type == "events_api":
        kind, found = "event", payload.get("event_id")
    elif request.type == "slash_commands":
        kind, found = "command", payload.get("trigger_id")
    else:
        kind = str(payload.get("type"))
        kind, found = (kind if kind in PAYLOAD_TYPES else "other"), payload.get("trigger_id")
    ok = isinstance(found, str) and 0 < len(found) <= 64 and found.replace(".", "").replace("-", "").isalnum()
    return kind, found if ok else None


class SocketModeRunner:
    """The Bolt app on a Socket Mode connection. `start()` connects (and fails loudly if it cannot);
    `stop()` stops gracefully."""

    def __init__(self, app: App, app_token: str, *, web_client: WebClient | None = None,
                 ack_within: float = ACK_WITHIN, ping_interval: float = PING_INTERVAL, concurrency: int = 8,
                 unhealthy_after: float = UNHEALTHY_AFTER, database: Callable[[], str | None] | None = None,
                 notices: Executor | None = None):
        self.app = app
        self.database = database  # None while the database is reachable, else why not (never touches it)
        self.notices = notices  # where "desk cannot reach its database" notices are sent, after the ack
        self.ack_within = ack_within
        self.unhealthy_after = unhealthy_after
        self._down_since: float | None = time.monotonic()  # not connected yet
        self.client = _Client(app_token=app_token, web_client=web_client or app.client, logger=log,
                              ping_interval=ping_interval, concurrency=concurrency,
                              receive_buffer_size=RECEIVE_BUFFER)
        self.client.socket_mode_request_listeners.append(self._on_request)
        self.accepting = True
        self._in_flight = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        """Open the first connection: `apps.connections.open`, then the WebSocket. A refused token is a
        `ConfigError` at once; anything else (Slack or the network down at start) is retried in the
        background with the same backoff as a reconnection, so desk starts and serves $PORT meanwhile."""
        try:
            self.client.connect()
        except SlackApiError as err:
            if err.response.get("error") in REFUSED_TOKEN:
                raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack ({err.response.get('error')}): "
                                  "an app-level token (xapp-…) with connections:write is needed") from None
            self._connect_later(err)
            return
        except Exception as err:  # refused, reset, timed out, a bad handshake
            self._connect_later(err)
            return
        log.info("Socket Mode: connected (session %s)", self.client.session_id())

    def _connect_later(self, first: Exception) -> None:
        metrics.SOCKET_MODE_CONNECTIONS.labels(outcome="failed").inc()
        log.warning("Socket Mode: could not connect at start (%s: %s); trying again in the background",
                    type(first).__name__, first)

        def keep_trying() -> None:
            delay = BACKOFF_FIRST
            while not self.client.closed and not self.client.is_connected():
                time.sleep(delay)
                if self.client.closed:
                    return
                try:
                    self.client.wss_uri = None  # a fresh URL each attempt: Slack's are single-use
                    self.client.connect()
                except Exception as err:
                    metrics.SOCKET_MODE_CONNECTIONS.labels(outcome="failed").inc()
                    delay = min(delay * 2, BACKOFF_MAX)
                    log.warning("Socket Mode: could not connect (%s: %s); trying again in %.0f s",
                                type(err).__name__, err, delay)
                    continue
                log.info("Socket Mode: connected (session %s)", self.client.session_id())

        threading.Thread(target=keep_trying, name="socket-mode-connect", daemon=True).start()

    def connection(self) -> tuple[bool, dict]:
        """What `/healthz` adds in Socket Mode: whether Slack's requests can reach desk. Unhealthy once no
        connection has been seen for `unhealthy_after` seconds (counted from the first check, or the start,
        that found none), so a platform restarts a process that cannot get through; a reconnection after
        Slack's routine `disconnect` is over long before that."""
        now = time.monotonic()
        if self.client.is_connected():
            self._down_since = None
            return True, {"slack": "connected"}
        if self._down_since is None:
            self._down_since = now
        down = now - self._down_since
        return down < self.unhealthy_after, {"slack": "reconnecting", "slack_down_seconds": int(down)}

    def stop(self, timeout: float = 10.0) -> bool:
        """Refuse new envelopes, let those being dispatched send their acks, close; whether all finished."""
        self.accepting = False
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            finished = self._in_flight == 0
        self.client.close()
        log.info("Socket Mode: connection closed%s", "" if finished else " with envelopes still being answered")
        return finished

    def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        arrived = self.client.arrived(request.envelope_id) or time.monotonic()
        kind, slack_id = describe(request)
        with logs.bind(request_id=slack_id or request.envelope_id[:12]):
            if not self.accepting:
                metrics.SOCKET_MODE.labels(type=kind, outcome="refused").inc()
                log.info("%s envelope arrived while stopping: not acked, Slack delivers it again", kind)
                return
            with self._idle:
                self._in_flight += 1
            try:
                self._answer(request, kind, arrived)
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

    def _answer(self, request: SocketModeRequest, kind: str, arrived: float) -> None:
        problem = self.database() if self.database is not None else None
        if problem is not None and isinstance(request.payload, dict):
            found = without_database(ENVELOPE_KINDS.get(request.type, "interaction"), request.payload, problem)
            if found is not None:
                self._without_database(request, kind, found)
                return
        headers: dict[str, str] = {}
        if request.retry_attempt:
            headers["x-slack-retry-num"] = str(request.retry_attempt)
            headers["x-slack-retry-reason"] = str(request.retry_reason or "")
        try:
            response = self.app.dispatch(BoltRequest(mode="socket_mode", body=request.payload, headers=headers))
        except Exception:
            log.exception("%s envelope: Bolt could not handle it: not acked", kind)
            metrics.SOCKET_MODE.labels(type=kind, outcome="not_acked").inc()
            return
        elapsed = time.monotonic() - arrived
        retry = f" (Slack retry {request.retry_attempt})" if request.retry_attempt else ""
        if response.status != 200:
            metrics.SOCKET_MODE.labels(type=kind, outcome="not_acked").inc()
            log.warning("%s envelope answered %s: not acked, so that Slack delivers it again%s", kind,
                        response.status, retry)
            return
        if elapsed > self.ack_within:
            metrics.SOCKET_MODE.labels(type=kind, outcome="late").inc()
            log.warning("%s envelope ready %.2f s after it arrived, past the %.1f s ack deadline: not acked "
                        "(Slack will not take a late ack)%s", kind, elapsed, self.ack_within, retry)
            return
        self.client.send_socket_mode_response(_ack(request.envelope_id, response))
        metrics.SOCKET_MODE.labels(type=kind, outcome="acked").inc()
        metrics.ACK_SECONDS.labels(type=kind).observe(elapsed)
        log.info("%s envelope acked in %.1f ms%s", kind, elapsed * 1000, retry)

    def _without_database(self, request: SocketModeRequest, kind: str, found: Unreachable) -> None:
        """The database is known to be unreachable: answered at once, without Bolt (desk.slack.unreachable)."""
        if not found.taken:
            metrics.SOCKET_MODE.labels(type=kind, outcome="not_acked").inc()
            return  # Slack delivers it again
        self.client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id,
                                                                 payload=found.answer))
        metrics.SOCKET_MODE.labels(type=kind, outcome="acked").inc()
        if found.tell is not None and self.notices is not None:
            self.notices.submit(tell_unreachable, self.app.client, found.tell)


def _ack(envelope_id: str, response: BoltResponse) -> SocketModeResponse:
    """The ack: bare, or carrying the answer (a modal's errors, a command's ephemeral reply)."""
    body = response.body or ""
    if not body:
        return SocketModeResponse(envelope_id=envelope_id)
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        return SocketModeResponse(envelope_id=envelope_id, payload=json.loads(body))
    return SocketModeResponse(envelope_id=envelope_id, payload={"text": body})
