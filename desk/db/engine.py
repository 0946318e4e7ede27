"""Engines and units of work. Nothing connects at import time."""

from __future__ import annotations

import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlmodel import Session

from desk.db.prepared import run_on_cursor
from desk.db.writers import WriterQueue

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "desk_read_only"  # execution option: a short read that must not queue for the write lock
HURRIED = "desk_hurried_seconds"  # execution option: a write that gives up after this long (`hurried`)
_HOLDS_WRITERS = "desk_holds_writers"  # connection info: this connection's transaction holds the WriterQueue
_WRITERS: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()  # a SQLite engine's queue


class WouldWait(Exception):
    """A write asked for at once (`HurriedConnection.cursor(..., at_once=True)`) would have had to wait for
    another writer: nothing was written, and the caller may ask again where waiting is allowed."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False,
                                                             "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine)
        return engine
    # connect_timeout: an unreachable server fails a health check or a scrape, rather than hanging it
    return create_engine(url, echo=echo, pool_size=5, max_overflow=5, pool_pre_ping=True,
                         pool_recycle=1800, connect_args={"connect_timeout": 5})


def _tune_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE.

    pysqlite opens transactions lazily and in DEFERRED mode: two writers that both read first then
    fail with SQLITE_BUSY on upgrade, which no timeout cures. Taking the write lock at BEGIN makes
    writers queue (up to the busy timeout) instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    writers = _WRITERS[engine] = WriterQueue()  # this process's writers queue here first (desk/db/writers.py)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY):  # a read (health, metrics) takes no lock in WAL mode: it never waits
            _driver_sql(connection, "BEGIN")
            return
        hurried = options.get(HURRIED)
        began = time.monotonic()
        if writers.acquire(timeout=hurried or SQLITE_BUSY_TIMEOUT_MS / 1000, hurried=hurried is not None):
            connection.info[_HOLDS_WRITERS] = True
        elif hurried is not None:
            raise _queue_gave_up(writers)
        # else (a writer held up this long, or one nested in its own thread): SQLite's busy timeout decides
        try:
            if hurried is not None:  # SQLite waits only for what is left of the budget (other processes)
                _driver_sql(connection, _busy_timeout_left(hurried, began))
            _driver_sql(connection, "BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection) -> None:
        if connection.invalidated:  # released when it was invalidated (below); its info is gone with it
            return
        if connection.info.pop(_HOLDS_WRITERS, False):
            writers.release()

    def _release_record(_dbapi_connection, record, *_: object) -> None:
        if record.info.pop(_HOLDS_WRITERS, False):
            writers.release()

    # after the transaction's end is sent (a commit that fails still ends in a rollback, released there)
    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    # a connection invalidated mid-transaction (a disconnect error) ends without either: the next writer
    # must not wait for it; and one back in the pool never holds the queue
    event.listen(engine.pool, "invalidate", _release_record)
    event.listen(engine.pool, "checkin", _release_record)


def _driver_sql(connection: Connection, sql: str) -> None:
    """A statement without parameters or rows (BEGIN, a PRAGMA) on the connection's own cursor, as
    `exec_driver_sql` would run it (listeners told, errors wrapped and handled) without its execution path,
    which cost several times SQLite's BEGIN (issue 16: every transaction begins)."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        run_on_cursor(connection, cursor, sql)
    finally:
        cursor.close()


def _queue_gave_up(writers: WriterQueue) -> exc.OperationalError:
    """A hurried writer's error when this process's writers' queue did not reach it in time."""
    return exc.OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
        f"database is locked (writers queued; held by {writers.holder()})"))


def _busy_timeout_left(budget_seconds: float, began: float) -> str:
    """The PRAGMA that lets SQLite wait only for what is left of a hurried writer's budget."""
    return f"PRAGMA busy_timeout={max(int((budget_seconds - (time.monotonic() - began)) * 1000), 1)}"


@contextmanager
def read_only(engine: Engine, *, timeout_seconds: float = 2.0) -> Iterator[Session]:
    """A short read that changes nothing and waits for nobody (health checks, metrics at scrape time).

    SQLite: a deferred transaction, so no write lock is taken. PostgreSQL: a READ ONLY transaction whose
    statements give up after `timeout_seconds`.
    """
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_seconds * 1000)}")
            with Session(bind=connection) as session:
                yield session


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads, for the lookups of work that runs beside Slack's acks (a ticket to
    post, the support roster): it keeps nothing, and on SQLite it stays out of the writers' queue.

    SQLite: a deferred transaction, a snapshot that takes no lock in WAL mode, so neither the acks' inbox
    rows nor this process's writers wait for it, and it waits for none of them. Through `unit_of_work`
    each such read began with BEGIN IMMEDIATE and held the queue for as long as its thread waited for the
    interpreter (bench/README.md, ingress, fifth pass). PostgreSQL: an ordinary transaction (reads never
    wait for writers there). It always ends in a rollback: nothing written in it is kept.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{READ_ONLY: True})
        with Session(bind=connection) as session:
            yield session


@contextmanager
def hurried(engine: Engine, *, timeout_seconds: float) -> Iterator[Session]:
    """One short write transaction that gives up rather than wait: for work done before an answer someone
    is waiting on (the durable receipt, before Slack's ack), where being late is as bad as failing.

    SQLite: it queues ahead of this process's other writers (desk/db/writers.py), then waits for SQLite's
    write lock with the busy timeout of this connection set to what is left of `timeout_seconds` (instead
    of ten seconds). PostgreSQL: `lock_timeout` and `statement_timeout`. Gives up with an
    `OperationalError`; commits on success, rolls back on any error.
    """
    wait_ms = max(int(timeout_seconds * 1000), 1)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.execution_options(**{HURRIED: timeout_seconds})
        raw = connection.connection.dbapi_connection if sqlite else None
        try:
            with connection.begin():
                if not sqlite:
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
                    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {wait_ms}")
                with Session(bind=connection) as session:
                    yield session
                    session.flush()
        finally:
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


class HurriedConnection:
    """`hurried` on SQLite for one statement at a time, on a connection of its own: no session, no
    SQLAlchemy execution path, no transaction but the statement's own (the inbox's group commit,
    desk/db/group_commit.py). The statements are the caller's, in SQLite's own SQL, with values as SQLAlchemy
    would bind them (desk/services/inbox.py).

    Each statement run on `cursor()` is a transaction of its own (SQLite's autocommit: atomic and durable,
    the write lock taken as it starts), so a caller runs one statement that writes, never two. Its bounds are
    `hurried`'s: the same writers' queue, then SQLite's busy timeout for what is left, rounded down to a
    tenth of a second (never later than asked) and set only when that changes. So are its errors: sqlite3's
    come out as SQLAlchemy's (`OperationalError` when it gave up), and the connection is closed, to be made
    again for the next statement.

    Why: around each INSERT of the inbox's rows, BEGIN IMMEDIATE, COMMIT and the busy timeout set and reset
    were four more calls into SQLite, each letting go of the interpreter's lock; under a burst of acks each
    took a wait behind the other threads to get it back, and a transaction of three rows took 1.8 ms of wall
    time, not 0.1 (bench/README.md, ingress, seventh pass). One connection kept also skips the pool's
    check-out and check-in.
    """

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None  # used only while holding the writers' queue
        self._busy_ms: int | None = None

    @contextmanager
    def cursor(self, engine: Engine, *, timeout_seconds: float, at_once: bool = False) -> Iterator[sqlite3.Cursor]:
        """`at_once`: the statement runs now or not at all: `WouldWait` if another writer of this process
        holds the queue, or if SQLite's write lock is not free within a millisecond (another process's)."""
        writers = _WRITERS[engine]
        began = time.monotonic()
        if not writers.acquire(timeout=0 if at_once else timeout_seconds, hurried=True):
            raise WouldWait("another writer of this process is writing") if at_once else _queue_gave_up(writers)
        try:
            if self._connection is None:
                pooled = engine.raw_connection()  # made by the engine: its connect-time settings (WAL, autocommit)
                pooled.detach()  # ours from now on, never handed to anyone else
                self._connection = pooled.dbapi_connection
            busy_ms = 1 if at_once else _rounded_down(timeout_seconds - (time.monotonic() - began))
            if busy_ms != self._busy_ms:
                self._connection.execute(f"PRAGMA busy_timeout={busy_ms}")
                self._busy_ms = busy_ms
            yield self._connection.cursor()
        except sqlite3.Error as err:
            if at_once and isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
                raise WouldWait(f"SQLite's write lock is held ({err})") from err  # the statement ran not at all
            self.close()  # not kept in a state nobody knows
            raise exc.DBAPIError.instance(None, None, err, sqlite3.Error) from err
        finally:
            writers.release()

    def close(self) -> None:
        connection, self._connection, self._busy_ms = self._connection, None, None
        if connection is not None:
            connection.close()


def _rounded_down(seconds: float) -> int:
    """Milliseconds of busy timeout for `seconds` left: whole tenths of a second, or what is left under one."""
    ms = int(seconds * 1000)
    return ms - ms % 100 if ms >= 100 else max(ms, 1)


def connection_of(session: Session) -> Connection:
    """The session's connection in its transaction, for a Core statement: pending ORM changes are flushed
    first, as `session.execute` would (autoflush), so the database sees writes in the order they were made.
    Cheaper than `session.execute`, whose ORM path costs more than a short statement itself."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: services flush, this commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
