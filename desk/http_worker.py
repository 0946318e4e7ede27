"""desk's gunicorn worker: a request is read whole, without a thread, before a thread sees it.

Gunicorn's `gthread` worker hands a connection to one of its threads as soon as a byte arrives; the thread
then blocks reading the headers and the body. With 8 threads, nine clients that send headers and one byte
and then wait stop everything else (Slack's events, `/healthz`) for as long as they like.

`BufferingWorker` keeps gthread's threads and its event loop, and adds one stage in that loop: each new
connection (and each kept-alive one that starts a new request) is read without blocking until the headers
and the announced body are in memory, and only then queued for a thread, whose parser reads from memory.
Idle and slow clients cost a socket and a buffer, never a thread. A request that does not arrive whole
within `request_timeout` seconds gets `408` and a log line; one announcing more than `max_body` bytes gets
`413` at once, without waiting for the body; one without a length (chunked) `411`; headers over
`MAX_HEADERS` bytes `431`. Threads keep a socket timeout too, so a write to a client that stopped reading
cannot hold one forever.

A request read whole may also be answered right there, in the loop, without a thread: the app's
`front_door` (desk.slack.web.DeskWsgi) gets it first when it is plain HTTP/1.1 (`whole_request`) and the
connection stays open after it, and either answers it or says None, having done nothing, and it goes to a
thread as before. The door answers only what needs no waiting (a Slack ack: the signature, the inbox row
stored at once when no other writer is under way); handing a request to a thread and its connection back
to the loop took more of the interpreter than the ack itself (bench/README.md, ingress, ninth pass).

The thresholds are gunicorn class attributes, set by `worker_class(...)` from desk's settings.
"""

from __future__ import annotations

import errno
import logging
import re
import selectors
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn.util import http_date
from gunicorn.workers.gthread import TConn, ThreadWorker

from desk.clock import wall_seconds
from desk.slack.checks import MAX_BODY

log = logging.getLogger("desk.web")

MAX_HEADERS = 32 * 1024  # gunicorn's own limits (100 fields of 8190 bytes) are far above anything sent to desk
RECV_SIZE = 64 * 1024
REASONS = {400: "Bad Request", 408: "Request Timeout", 411: "Length Required", 413: "Payload Too Large",
           431: "Request Header Fields Too Large", 503: "Service Unavailable"}


# (method, target, headers with names lower-cased, body, local port) -> (status line, headers, body) or None
FrontDoor = Callable[[str, str, Mapping[str, str], bytes, "int | None"], "tuple[str, list[tuple[str, str]], bytes] | None"]
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's token: a method, a header's name
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no control characters but a tab in a header's value
_NOT_AT_THE_DOOR = frozenset({"transfer-encoding", "expect", "upgrade", "http2-settings"})


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def request_state(received: bytes | bytearray, *, max_body: int) -> bool | Refusal:
    """Whether `received` holds one whole HTTP/1.1 request (True), not yet (False), or why it never will."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return Refusal(431, f"headers over {MAX_HEADERS} bytes") if len(received) > MAX_HEADERS else False
    if end > MAX_HEADERS:
        return Refusal(431, f"headers over {MAX_HEADERS} bytes")
    length: int | None = None
    for line in bytes(received[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"transfer-encoding":
            return Refusal(411, "a body without Content-Length (chunked) is not accepted")
        if name == b"content-length":
            if not re.fullmatch(rb"[0-9]{1,12}", value) or (length is not None and int(value) != length):
                return Refusal(400, "an unreadable or repeated Content-Length")
            length = int(value)
    if (length or 0) > max_body:
        return Refusal(413, f"a body of {length} bytes (at most {max_body})")
    return len(received) >= end + 4 + (length or 0)


def whole_request(received: bytes | bytearray) -> tuple[str, str, dict[str, str], bytes, int] | None:
    """The first request in `received`, which `request_state` found whole, as the front door reads it:
    method, target, headers (names lower-cased), body, and how many bytes it took. None unless it is plain
    HTTP/1.1: a request line of three parts, each header once, well formed, none asking for anything but a
    body of Content-Length bytes (chunks, `Expect`, an upgrade) and `Connection` at most keep-alive or close.
    gunicorn's own parser reads everything else, and refuses what it must."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return None
    line, *fields = bytes(received[:end]).decode("latin-1").split("\r\n")
    method, _, rest = line.partition(" ")
    target, _, version = rest.partition(" ")
    if version != "HTTP/1.1" or not _TOKEN.fullmatch(method) or not target.startswith("/") or " " in target:
        return None
    headers: dict[str, str] = {}
    for field in fields:
        name, colon, value = field.partition(":")
        name = name.lower()
        if not colon or not _TOKEN.fullmatch(name) or name in headers or name in _NOT_AT_THE_DOOR \
                or _UNSAFE_VALUE.search(value):
            return None
        headers[name] = value.strip(" \t")
    if headers.get("connection", "keep-alive").lower() not in ("keep-alive", "close"):
        return None
    length = headers.get("content-length", "0")
    if not length.isdigit() or not length.isascii():
        return None
    size = end + 4 + int(length)
    if len(received) < size:
        return None
    return method, target, headers, bytes(received[end + 4:size]), size


class _Received:
    """The client's socket as gunicorn's parser sees it: what the event loop already read, then the socket.

    In a thread the socket blocks with a timeout (never without one). `whole`: the loop read the request a
    thread now serves whole, so reading its body cannot block (`desk.slack.checks.read_body` trusts it)."""

    def __init__(self, sock: socket.socket, thread_timeout: float):
        self.sock = sock
        self.buffer = bytearray()
        self.thread_timeout = thread_timeout
        self.whole = False

    def recv(self, size: int, *flags: int) -> bytes:
        if self.buffer:
            chunk = bytes(self.buffer[:size])
            del self.buffer[:size]
            return chunk
        return self.sock.recv(size, *flags)

    def setblocking(self, flag: bool) -> None:
        """Blocking with the thread's timeout, or not blocking. A socket already so is left alone: each
        change is a system call that lets go of the interpreter's lock, and under load the caller then waits
        for it behind the other threads (gthread asks on every request, kept-alive or not)."""
        wanted = self.thread_timeout if flag else 0.0
        if self.sock.gettimeout() != wanted:
            self.sock.settimeout(wanted)

    def fileno(self) -> int:
        return self.sock.fileno()

    def __getattr__(self, name: str):
        return getattr(self.sock, name)


class BufferingWorker(ThreadWorker):
    request_timeout: float = 10.0
    max_body: int = MAX_BODY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arriving: dict[TConn, float] = {}  # connection -> when its request must be in
        self.watched: set[TConn] = set()  # arriving connections the poller watches (not yet read whole)

    def accept(self, listener) -> None:
        try:
            client, address = listener.accept()
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client.setblocking(False)
        conn = TConn(self.cfg, _Received(client, self.request_timeout), address, listener.getsockname())
        self._await_request(conn)

    def on_client_socket_readable(self, conn: TConn, client) -> None:
        """A kept-alive connection starts its next request: read it whole first, like a new one."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_request(conn)

    def _await_request(self, conn: TConn) -> None:
        """Wait for the connection's next request without a thread. What has arrived already is read at
        once: a kept-alive connection is here because it is readable, and a new one's request often follows
        its handshake within microseconds, so waiting for the poller to say so again costs a turn of the
        loop (and the threads' interpreter lock) for nothing."""
        conn.sock.setblocking(False)
        self.arriving[conn] = time.monotonic() + self.request_timeout
        if conn.sock.buffer:  # pipelined: the loop read it with the request before
            self._advance(conn)
        if conn in self.arriving:
            self._on_readable(conn, None)
        if conn in self.arriving:  # not whole yet: the poller says when more arrives
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
            self.watched.add(conn)

    def _on_readable(self, conn: TConn, _fileobj) -> None:
        received: _Received = conn.sock
        try:
            chunk = received.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client hung up before sending a whole request
            self._close(conn)
            return
        received.buffer += chunk
        self._advance(conn)

    def _advance(self, conn: TConn) -> None:
        """Queue the connection for a thread once its request is whole; refuse it if it never will be."""
        state = request_state(conn.sock.buffer, max_body=self.max_body)
        if isinstance(state, Refusal):
            self._refuse(conn, state)
        elif state:
            self._unwatch(conn)
            del self.arriving[conn]
            if self._at_the_door(conn):
                return
            conn.sock.whole = True
            conn.data_ready = True  # gthread must not wait for data again in the thread
            self.enqueue_req(conn)

    def _at_the_door(self, conn: TConn) -> bool:
        """Whether the app's front door answered the request just read whole, here in the loop; if not, it
        was left as it was, for a thread. Only a request after which the connection stays open: closing one
        well takes a wait for the client, which a thread does."""
        door: FrontDoor | None = getattr(self.wsgi, "front_door", None)
        if door is None or not self.alive or not self.cfg.keepalive or self.nr + 1 >= self.max_requests \
                or len(self.keepalived_conns) >= self.max_keepalived:
            return False
        received: _Received = conn.sock
        request = whole_request(received.buffer)
        if request is None or request[2].get("connection", "").lower() == "close":
            return False
        method, target, headers, body, size = request
        try:
            answer = door(method, target, headers, body, _port_of(conn.server))
        except Exception:  # a bug: the thread's way answers it, and says what went wrong there too
            log.exception("the front door failed on %s %s: handed to a thread", method, target[:100])
            return False
        if answer is None:
            return False
        del received.buffer[:size]
        self.nr += 1
        status, fields, content = answer
        head = "".join([f"HTTP/1.1 {status}\r\nServer: gunicorn\r\nDate: {_date()}\r\nConnection: keep-alive\r\n",
                        *(f"{name}: {value}\r\n" for name, value in fields), "\r\n"])
        data = head.encode("latin-1") + content
        try:
            sent = received.sock.send(data)  # an answer this small fits a socket whose client is reading
        except OSError:
            sent = -1
        if sent != len(data):  # the client went, or stopped reading: the request was taken all the same
            self._close(conn)
        elif received.buffer:  # pipelined: the next request is here already, taken on the loop's next turn
            self.method_queue.defer(self._await_request, conn)  # (not from here: no recursion per request)
        else:
            conn.set_timeout()
            self.keepalived_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))
        return True

    def finish_request(self, conn: TConn, fs) -> None:
        """After a response: a kept-alive connection whose next request the loop already read (pipelined)
        would wait for the socket to be readable again, which it may never be: look at what is held.
        gthread hands a connection whose next request a body's drain read ahead straight to a thread, not
        read whole: until the loop has read one whole again, its socket says it was not."""
        conn.sock.whole = False
        super().finish_request(conn, fs)
        if conn in self.keepalived_conns and conn.sock.buffer:
            self.poller.unregister(conn.sock)
            self.keepalived_conns.remove(conn)
            self._await_request(conn)

    def murder_pending(self) -> None:
        """Gunicorn's sweep of waiting connections, called every loop: also those whose request is late."""
        super().murder_pending()
        now = time.monotonic()
        for conn, due in list(self.arriving.items()):
            if not self.alive:
                self._refuse(conn, Refusal(503, "stopping: a request not yet received whole is not served"))
            elif due <= now:
                got = len(conn.sock.buffer)
                self._refuse(conn, Refusal(408, f"request not received whole within {self.request_timeout:g} s "
                                                f"({got} bytes so far)"))

    def _refuse(self, conn: TConn, refusal: Refusal) -> None:
        client = conn.client[0] if isinstance(conn.client, tuple) else conn.client
        log.warning("rejected: %s %s, from %s", refusal.status, refusal.reason, client)
        body = f'{{"ok": false, "error": "{REASONS[refusal.status].lower().replace(" ", "_")}"}}'.encode()
        head = (f"HTTP/1.1 {refusal.status} {REASONS[refusal.status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            conn.sock.sock.send(head + body)  # small enough for an empty send buffer; else the client loses it
        except OSError:
            pass
        self._close(conn)

    def _unwatch(self, conn: TConn) -> None:
        """The poller no longer watches the connection, if it did (most requests are read whole at once)."""
        if conn in self.watched:
            self.watched.discard(conn)
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    def _close(self, conn: TConn) -> None:
        self.arriving.pop(conn, None)
        self._unwatch(conn)
        self.nr_conns -= 1
        conn.close()


def _port_of(address: Any) -> int | None:
    """The port of a socket's local address (gunicorn's `conn.server`), None for a Unix socket's."""
    return address[1] if isinstance(address, tuple) and len(address) >= 2 else None


_DATE: list[Any] = [0, ""]  # the second and its Date header (email.utils.formatdate's is a few microseconds)


def _date() -> str:
    now = int(wall_seconds())
    if _DATE[0] != now:
        _DATE[:] = [now, http_date(now)]
    return _DATE[1]


def worker_class(*, request_timeout: float, max_body: int = MAX_BODY) -> type[BufferingWorker]:
    """`BufferingWorker` with desk's thresholds (gunicorn instantiates the class itself)."""
    return type("DeskWorker", (BufferingWorker,), {"request_timeout": request_timeout, "max_body": max_body})
