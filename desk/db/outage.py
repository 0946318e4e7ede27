"""When the database cannot be reached: telling that apart from other errors, waiting it out, knowing it.

- `unreachable(err)`: the server refused the connection, dropped it, or is starting or shutting down. Not a
  wrong query, a constraint, a lock or a statement timeout: those are answers from a reachable database.
- `patiently(work)`: run a unit of work again, with back-off, while the database is unreachable (up to
  `PATIENCE_SECONDS`). For work that must not be dropped once Slack has been told "got it": an event acked
  200 that is not recorded is a message Slack will never send again. The work must be one transaction (or
  only reads), so a failed attempt left nothing behind.
- `Reachability`: what this process last learned (from every failure and every new connection on its
  engine). While the database is known to be unreachable, a background thread probes it every second; the
  web front reads the state without touching the database, so a request never waits on a dead server.

Each outage is logged as one line when it starts and one when it ends, not a traceback per attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, event, exc, text

log = logging.getLogger("desk.db")

T = TypeVar("T")

PATIENCE_SECONDS = 60.0  # how long work that was already acknowledged waits for the database to come back
PROBE_EVERY_SECONDS = 1.0
# PostgreSQL states that mean "not now, the server is going or coming": admin/crash shutdown, starting up
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03"}


def unreachable(err: BaseException | None) -> bool:
    """Whether `err` (or what caused it) says the database could not be reached or dropped the connection."""
    seen = 0
    while err is not None and seen < 5:
        if isinstance(err, exc.DBAPIError):
            if err.connection_invalidated:
                return True
            if isinstance(err, (exc.OperationalError, exc.InterfaceError)):
                return _dbapi_unreachable(err.orig)
            return False
        if _dbapi_unreachable(err):
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False


def _dbapi_unreachable(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    module = type(orig).__module__
    if module.startswith("psycopg"):
        import psycopg

        if not isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)):
            return False
        state = getattr(orig, "sqlstate", None)
        return state is None or state.startswith("08") or state in _UNAVAILABLE_STATES
    if module == "sqlite3":
        message = str(orig).lower()
        return type(orig).__name__ == "OperationalError" and ("unable to open" in message or "disk i/o" in message)
    return False


def describe(err: BaseException) -> str:
    """One short line: the driver's error type and the first line of its message (no SQL, no traceback)."""
    orig = err.orig if isinstance(err, exc.DBAPIError) and err.orig is not None else err
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first[:200]}" if first else type(orig).__name__


def patiently(work: Callable[[], T], *, what: str, patience: float = PATIENCE_SECONDS,
              stopping: threading.Event | None = None) -> T:
    """`work()`, again after a pause each time it fails because the database is unreachable, for up to
    `patience` seconds (or until `stopping` is set); then the last error is raised. Other errors at once."""
    deadline = time.monotonic() + patience
    pause, started = 0.25, None
    while True:
        try:
            result = work()
        except Exception as err:
            if not unreachable(err):
                raise
            now = time.monotonic()
            if started is None:
                started = now
                log.warning("database unreachable while %s (%s); retrying for up to %.0f s", what, describe(err),
                            patience)
            if now + pause > deadline or (stopping is not None and stopping.is_set()):
                log.error("database unreachable for %.1f s: gave up %s (%s)", now - started, what, describe(err))
                raise
            if stopping is not None:
                stopping.wait(pause)
            else:
                time.sleep(pause)
            pause = min(pause * 2, 2.0)  # back within ~2 s of the database
            continue
        if started is not None:
            log.info("database reachable again: %s done after %.1f s", what, time.monotonic() - started)
        return result


class Reachability:
    """Whether this process's engine can reach its database, as last learned; never blocks the caller.

    Learns "unreachable" from any failure on the engine that `unreachable()` recognises, and "reachable"
    from any new connection (after an outage the pool reconnects, which fires `connect`). While it is down,
    a daemon thread probes every `probe_every` seconds, so the state recovers even with no traffic.
    """

    def __init__(self, engine: Engine, *, probe_every: float = PROBE_EVERY_SECONDS):
        self.engine = engine
        self.probe_every = probe_every
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._reason = ""
        self._prober: threading.Thread | None = None
        event.listen(engine, "handle_error", self._on_error)
        event.listen(engine, "connect", self._on_connect)

    def problem(self) -> str | None:
        """None while the database is reachable; else why not (one line, for answers and logs)."""
        with self._lock:
            return None if self._down_since is None else self._reason

    def lost(self, reason: str) -> None:
        with self._lock:
            if self._down_since is not None:
                self._reason = reason
                return
            self._down_since, self._reason = time.monotonic(), reason
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe, name="desk-db-probe", daemon=True)
                self._prober.start()
        log.warning("database unreachable: %s; Slack requests that need it are answered without it", reason)

    def found(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._down_since, self._reason = None, ""
        log.info("database reachable again after %.1f s", down_for)

    def _on_error(self, context) -> None:
        if getattr(context, "is_pre_ping", False):
            return  # a stale pooled connection after a restart: the pool reconnects, and that decides
        err = context.sqlalchemy_exception or context.original_exception
        if context.is_disconnect or unreachable(err) or unreachable(context.original_exception):
            self.lost(describe(context.original_exception or err))

    def _on_connect(self, _dbapi_connection, _record) -> None:
        self.found()

    def _probe(self) -> None:
        while True:
            with self._lock:
                if self._down_since is None:
                    return
            time.sleep(self.probe_every)
            try:
                with self.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as err:  # still down (the failure was noted by handle_error), or something else
                log.debug("database probe failed: %s", describe(err))
                continue
            self.found()
