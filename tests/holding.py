"""A write transaction held open by another thread, for tests of what waits for a writer and what does not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine

from desk.db.engine import unit_of_work
from desk.db.tables import InboxRow

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@contextmanager
def write_held(engine: Engine, *, key: str = "event:held") -> Iterator[None]:
    """Another thread writes an inbox row `key` and holds its transaction open (on SQLite: the write lock and
    this process's writers' queue) until the block ends; then it commits, and the thread is joined."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with unit_of_work(engine) as session:
            session.add(InboxRow(key=key, kind="message", payload="{}", received_at=AT, leased_until=AT))
            session.flush()
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(5), "the holding thread did not start its write"
        yield
    finally:
        done.set()
        holder.join(10)
