"""`SocketModeStandIn`: Slack's Socket Mode side, local: a WebSocket server that sends envelopes and records acks.

Slack's real flow, reproduced: the app calls `apps.connections.open` with its app-level token (`xapp-…`; the
Web API stand-in checks the call against the method reference and answers with `open_url()`), connects to
the `ws://127.0.0.1:…/link/?ticket=…` URL it was given (a ticket is good for one connection), gets `hello`,
and from then on receives envelopes, `{"envelope_id", "type", "payload", "accepts_response_payload",
"retry_attempt", "retry_reason"}` with type `events_api`, `slash_commands` or `interactive`, each to be
acked within 3 seconds by sending back `{"envelope_id", "payload"?}`. Slack spreads envelopes across an app's
open connections; so does `send` (round robin). `disconnect(reason)` sends `{"type": "disconnect",
"reason": …}` and closes the connection shortly after, as Slack does; `drop()` cuts the TCP socket with no
goodbye at all.

Every ack is recorded (`acks`), with its payload and how long after the envelope was sent it came. An ack
after 3 s, for an envelope never sent, or twice for the same envelope, lands in `violations`: a test
asserts it is empty, as for the Web API stand-in.

The WebSocket framing is the `websockets` library's (a dev dependency: tests, bench/ and the sandbox's
tooling use this module, desk itself never imports it).
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from desk.sandbox.socket_envelopes import (
    ACK_DEADLINE_SECONDS,
    APP_ID,
    EVENTS_API,
    INTERACTIVE,
    LINK_DISABLED,
    REFRESH_REQUESTED,
    SLASH_COMMANDS,
    WARNING,
    Ack,
    DisconnectReason,
    Envelope,
    EnvelopeType,
)

log = logging.getLogger(__name__)

__all__ = ["ACK_DEADLINE_SECONDS", "APP_ID", "EVENTS_API", "INTERACTIVE", "LINK_DISABLED", "REFRESH_REQUESTED",
           "SLASH_COMMANDS", "WARNING", "Ack", "DisconnectReason", "Envelope", "EnvelopeType", "SocketModeStandIn"]

@dataclass
class _Link:
    number: int
    connection: Any  # websockets.sync.server.ServerConnection
    opened_at: float
    closed: threading.Event = field(default_factory=threading.Event)


class SocketModeStandIn:
    """The WebSocket server. Start it (or use it in a `with` block), then `send_event`, `send_command`,
    `send_interaction`; `wait_ack(envelope)` blocks until the app acks it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, close_after_disconnect: float = 0.5,
                 app_id: str = APP_ID) -> None:
        self._address = (host, port)
        self.close_after_disconnect = close_after_disconnect
        self.app_id = app_id
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Condition()
        self._tickets: set[str] = set()
        self._links: dict[int, _Link] = {}
        self._numbers = itertools.count(1)
        self._turn = itertools.count()
        self.envelopes: dict[str, Envelope] = {}
        self.acks: list[Ack] = []
        self.violations: list[str] = []
        self.connections_opened = 0
        self.refused = 0  # connection attempts with an unknown or used ticket

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> SocketModeStandIn:
        from websockets.sync.server import serve

        if self._server is not None:
            return self
        self._server = serve(self._serve, *self._address, compression=None, ping_interval=None)
        self._thread = threading.Thread(target=self._server.serve_forever, name="socket-mode-stand-in",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        for link in self.links():
            self._close(link)
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> SocketModeStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Socket Mode stand-in is not started")
        return int(self._server.socket.getsockname()[1])

    def open_url(self) -> str:
        """A fresh one-connection URL: what `apps.connections.open` answers."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # --- connections ----------------------------------------------------------------------------------

    def links(self) -> list[_Link]:
        with self._lock:
            return [link for link in self._links.values() if not link.closed.is_set()]

    def wait_connections(self, count: int = 1, timeout: float = 10.0) -> list[int]:
        """Block until `count` connections are open (hello sent); their numbers."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                open_ = [n for n, link in self._links.items() if not link.closed.is_set()]
                if len(open_) >= count:
                    return open_
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(open_)} Socket Mode connection(s) open, not {count}, "
                                         f"after {timeout} s ({self.connections_opened} opened in all)")
                self._lock.wait(left)

    def wait_new_connection(self, after: int, timeout: float = 15.0) -> int:
        """Block until a connection numbered above `after` is open (a reconnection); its number."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                fresh = [n for n, link in self._links.items() if n > after and not link.closed.is_set()]
                if fresh:
                    return fresh[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no new Socket Mode connection after #{after} within {timeout} s")
                self._lock.wait(left)

    def disconnect(self, reason: DisconnectReason = REFRESH_REQUESTED, *, connection: int | None = None) -> int:
        """Slack's `disconnect` message on one connection (the newest by default), then the close; its number."""
        link = self._pick(connection, newest=True)
        link.connection.send(json.dumps({"type": "disconnect", "reason": str(DisconnectReason(reason)),
                                         "debug_info": {"host": "applink-stand-in"}}))
        if reason != WARNING:
            threading.Timer(self.close_after_disconnect, self._close, args=(link,)).start()
        return link.number

    def drop(self, *, connection: int | None = None) -> int:
        """The TCP connection cut with no close frame (a NAT timeout, a crashed load balancer); its number."""
        link = self._pick(connection, newest=True)
        try:
            link.connection.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        link.connection.socket.close()
        link.closed.set()
        return link.number

    def _close(self, link: _Link) -> None:
        try:
            link.connection.close()
        except Exception:  # already gone
            pass

    def _pick(self, number: int | None, *, newest: bool = False) -> _Link:
        deadline = time.monotonic() + 10
        while True:
            links = self.links()
            if number is not None:
                links = [link for link in links if link.number == number]
            if links:
                if newest:
                    return max(links, key=lambda link: link.number)
                with self._lock:
                    return links[next(self._turn) % len(links)]
            if time.monotonic() > deadline:
                raise AssertionError(f"no open Socket Mode connection{f' #{number}' if number else ''}")
            time.sleep(0.02)

    def _serve(self, connection: Any) -> None:
        """One app connection: check its ticket, say hello, then read acks until it closes."""
        query = parse_qs(urlsplit(connection.request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
            if not known:
                self.refused += 1
        if not known:
            connection.close(code=1008, reason="invalid ticket")
            return
        link = _Link(next(self._numbers), connection, time.monotonic())
        connection.send(json.dumps({
            "type": "hello", "num_connections": len(self.links()) + 1,
            "debug_info": {"host": "applink-stand-in", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id}}))
        with self._lock:
            self._links[link.number] = link
            self.connections_opened += 1
            self._lock.notify_all()
        try:
            for raw in connection:
                self._received(link, raw)
        except Exception as err:  # a dropped socket ends the loop with an error: that is the point
            log.debug("socket mode stand-in: connection #%s ended: %s", link.number, err)
        finally:
            with self._lock:
                link.closed.set()
                self._lock.notify_all()

    def _received(self, link: _Link, raw: str | bytes) -> None:
        now = time.monotonic()
        try:
            message = json.loads(raw)
        except ValueError:
            self._violation(f"connection #{link.number}: not JSON: {str(raw)[:80]!r}")
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            envelope = self.envelopes.get(envelope_id) if isinstance(envelope_id, str) else None
            if envelope is None:
                self._violation(f"ack for an envelope never sent: {str(raw)[:120]!r}")
                return
            if any(ack.envelope_id == envelope_id for ack in self.acks):
                self._violation(f"{envelope_id}: acked twice")
            payload = message.get("payload") or {}
            if payload and not envelope.message()["accepts_response_payload"]:
                self._violation(f"{envelope_id}: a payload in the ack of an {envelope.type} envelope")
            ack = Ack(envelope_id, payload if isinstance(payload, dict) else {"_": payload}, link.number,
                      now - envelope.sent_at)
            if ack.late:
                self._violation(f"{envelope_id}: acked {ack.after:.2f} s after it was sent (Slack waits 3 s)")
            self.acks.append(ack)
            self._lock.notify_all()

    def _violation(self, problem: str) -> None:
        log.warning("socket mode stand-in: %s", problem)
        self.violations.append(problem)

    # --- sending --------------------------------------------------------------------------------------

    def send(self, kind: EnvelopeType | str, payload: Mapping[str, Any], *, connection: int | None = None,
             retry_attempt: int = 0, retry_reason: str = "") -> Envelope:
        """One envelope on one open connection (round robin, or the one named); it is recorded as sent. A
        connection found closed as it is sent on (the app closed it a moment ago) is passed over for another
        open one, as Slack does; unless it was the one named."""
        from websockets.exceptions import ConnectionClosed

        while True:
            link = self._pick(connection)
            envelope = Envelope(str(uuid.uuid4()), EnvelopeType(kind), dict(payload), link.number,
                                time.monotonic(), retry_attempt, retry_reason)
            with self._lock:
                self.envelopes[envelope.envelope_id] = envelope
            try:
                link.connection.send(json.dumps(envelope.message()))
            except ConnectionClosed:
                with self._lock:
                    del self.envelopes[envelope.envelope_id]
                    link.closed.set()
                if connection is not None:
                    raise
                continue
            return envelope

    def send_event(self, body: Mapping[str, Any], **options: Any) -> Envelope:
        """An Events API body (`event_callback`), as an `events_api` envelope."""
        return self.send(EVENTS_API, body, **options)

    def send_command(self, fields: Mapping[str, str], **options: Any) -> Envelope:
        """A slash command's fields (what HTTP would form-encode), as a `slash_commands` envelope."""
        return self.send(SLASH_COMMANDS, fields, **options)

    def send_interaction(self, payload: Mapping[str, Any], **options: Any) -> Envelope:
        """An interactivity payload (button, modal, shortcut), as an `interactive` envelope."""
        return self.send(INTERACTIVE, payload, **options)

    def redeliver(self, envelope: Envelope, *, retry_reason: str = "timeout", **options: Any) -> Envelope:
        """Slack's retry of an envelope: the same payload in a new envelope, `retry_attempt` one higher."""
        return self.send(envelope.type, envelope.payload, retry_attempt=envelope.retry_attempt + 1,
                         retry_reason=retry_reason, **options)

    # --- acks -----------------------------------------------------------------------------------------

    def ack_of(self, envelope: Envelope | str) -> Ack | None:
        envelope_id = envelope if isinstance(envelope, str) else envelope.envelope_id
        with self._lock:
            return next((ack for ack in self.acks if ack.envelope_id == envelope_id), None)

    def wait_ack(self, envelope: Envelope, timeout: float = 10.0) -> Ack:
        """Block until `envelope` is acked; an AssertionError when it is not within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                ack = next((a for a in self.acks if a.envelope_id == envelope.envelope_id), None)
                if ack is not None:
                    return ack
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope.envelope_id} ({envelope.type}) not acked "
                                         f"within {timeout} s")
                self._lock.wait(left)

    def reset(self) -> None:
        with self._lock:
            self.envelopes.clear()
            self.acks.clear()
            self.violations.clear()
