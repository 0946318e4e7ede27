"""Structured logs: JSON lines off a terminal, readable lines on one, and never a token.

Every line carries the request id and the ticket ref when they are known. They travel in `contextvars`:
the web front binds the request id, code that works on a ticket binds its ref (`bind(ticket=...)`), and
the listener executor runs work after the ack inside a copy of the request's context, so the id follows
the request into that thread. `ContextFilter` copies them onto each record.

`RedactingFilter` scrubs Slack tokens (`xoxb-…`, `xapp-…`, …) and the configured secrets from each
record's message, arguments and traceback, and the formatters scrub their output once more, so no path
(a third-party logger, an `extra` field, an exception message) can put a token in a log line.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("desk_request_id", default=None)
TICKET: contextvars.ContextVar[str | None] = contextvars.ContextVar("desk_ticket", default=None)
_FIELDS = {"request_id": REQUEST_ID, "ticket": TICKET}

TOKEN_PATTERN = re.compile(r"xox[abprse]-[0-9A-Za-z-]+|xapp-[0-9A-Za-z-]+")
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter "secrets" would blank out ordinary words


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Carry `request_id` and/or `ticket` on every log line written inside the block (and in work it
    hands to the listener executor)."""
    tokens = [(_FIELDS[name], _FIELDS[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class Redactor:
    """Replaces Slack tokens and the secrets it is told about with `[redacted]`."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets: set[str] = set()
        self._pattern = TOKEN_PATTERN
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                # as written, and as it reads inside a JSON line (a password may hold `"` or `\`)
                self._secrets.update({secret, json.dumps(secret, ensure_ascii=False)[1:-1]})
        alternatives = [TOKEN_PATTERN.pattern, *(re.escape(s) for s in sorted(self._secrets, key=len,
                                                                                  reverse=True))]
        self._pattern = re.compile("|".join(alternatives))

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)


REDACT = Redactor()


class RedactingFilter(logging.Filter):
    """Scrubs the message (with its arguments merged in) and any traceback of a record."""

    def __init__(self, redact: Redactor = REDACT):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, scrubbed
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Puts the current request id and ticket ref on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.ticket = TICKET.get()
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id",
                                                                           "ticket", "taskName"}


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    fields = vars(record)
    if fields.keys() <= _STANDARD:  # most records: the set comparison runs in C
        return {}
    return {key: value for key, value in fields.items() if key not in _STANDARD and not key.startswith("_")}


_JSON = json.JSONEncoder(default=str, ensure_ascii=False)  # `json.dumps` with these makes an encoder per call


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message, request_id, ticket, then any `extra` fields."""

    def __init__(self, redact: Redactor = REDACT):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "ticket": getattr(record, "ticket", None),
        }
        for key, value in _extra(record).items():
            document.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = record.stack_info
        return self.redact(_JSON.encode(document))


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message [request=… ticket=…]`, for a person at a terminal."""

    def __init__(self, redact: Redactor = REDACT):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        where = [f"{name}={value}" for name in ("request", "ticket")
                 if (value := getattr(record, "request_id" if name == "request" else name, None))]
        if where:
            head, newline, rest = line.partition("\n")
            line = f"{head} [{' '.join(where)}]{newline}{rest}"
        return self.redact(line)


class LineHandler(logging.StreamHandler):
    """A `StreamHandler` that, on a stream backed by a file descriptor, formats each record before any
    lock and writes the whole line with one `write(2)`, holding no Python lock across it.

    The standard handler formats and writes while holding its lock. The write is a system call, which lets
    go of the GIL; under load the writing thread then waits up to the interpreter's switch interval (5 ms)
    to get it back, and every other thread that logs queues behind the lock meanwhile. In the web process,
    where every request logs a line, that capped acks at a few hundred a second (bench/bench_ingress.py).
    One `write(2)` per line keeps lines whole on a pipe or a file. Streams without a descriptor (a
    `StringIO` in tests) are written as the standard handler does.
    """

    def __init__(self, stream: IO[str]):
        super().__init__(stream)
        self._fd = _fileno(stream)
        self._encoding = getattr(stream, "encoding", None) or "utf-8"

    def handle(self, record: logging.LogRecord) -> bool:
        if self._fd is None:
            return bool(super().handle(record))
        if not self.filter(record):
            return False
        try:
            line = (self.format(record) + self.terminator).encode(self._encoding, "backslashreplace")
            while line:
                line = line[os.write(self._fd, line):]
        except Exception:
            self.handleError(record)
        return True


def _fileno(stream: IO[str]) -> int | None:
    try:
        stream.flush()  # anything already buffered goes first
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both an OSError and a ValueError
        return None


def handler(stream: IO[str] | None = None, *, fmt: str | None = None) -> logging.Handler:
    """A handler writing desk's log lines to `stream` (stderr): JSON unless `fmt` is "text" or, with no
    `fmt`, the stream is a terminal."""
    stream = stream if stream is not None else sys.stderr
    if fmt is None:
        fmt = "text" if _is_terminal(stream) else "json"
    built = LineHandler(stream)
    built.addFilter(ContextFilter())
    built.addFilter(RedactingFilter())
    built.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    built._desk = True  # type: ignore[attr-defined]  # marks handlers configure_logging replaces
    return built


def configure_logging(stream: IO[str] | None = None, *, fmt: str | None = None, level: str = "INFO",
                      secrets: Iterable[str | None] = ()) -> logging.Handler:
    """Send every logger's records through one desk handler on the root logger; called once at start by
    `desk serve` and `desk worker`. `secrets` are redacted along with anything shaped like a Slack token."""
    REDACT.add(*secrets)
    _record_only_what_is_written()
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from before, or a basicConfig handler: this one replaces them
        to_console = isinstance(old, logging.StreamHandler) and old.stream in (sys.stderr, sys.stdout)
        if getattr(old, "_desk", False) or to_console:
            root.removeHandler(old)
    installed = handler(stream, fmt=fmt)
    root.addHandler(installed)
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    return installed


def _record_only_what_is_written() -> None:
    """Records stop collecting what no desk line shows: the calling function's file and line (a walk up the
    stack for each record), the thread's and the process's names and ids. The logging HOWTO's own advice
    ("Optimization"); a line costs about a fifth less, and the web process writes one per request."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
