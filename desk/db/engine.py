"""Engines and units of work. Nothing connects at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "desk_read_only"  # execution option: a short read that must not queue for the write lock


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

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A read (health, metrics) takes no lock in WAL mode: it never waits behind a writer.
        read_only = connection.get_execution_options().get(READ_ONLY)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


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
def hurried(engine: Engine, *, timeout_seconds: float) -> Iterator[Session]:
    """One short write transaction that gives up rather than wait: for work done before an answer someone
    is waiting on (the durable receipt, before Slack's ack), where being late is as bad as failing.

    SQLite: the busy timeout of this connection is `timeout_seconds` (instead of ten seconds) while it is
    held, so waiting for the write lock gives up then. PostgreSQL: `lock_timeout` and `statement_timeout`.
    Commits on success, rolls back on any error (a timeout is an `OperationalError`).
    """
    wait_ms = max(int(timeout_seconds * 1000), 1)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute(f"PRAGMA busy_timeout={wait_ms}")
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
