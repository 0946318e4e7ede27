"""Writes that arrive together share one SQLite transaction (group commit), each still told its own outcome.

Every ack of a Slack event waits for its inbox row to be committed (desk/services/inbox.py). One row per
transaction meant one writer at a time through the writers' queue (desk/db/writers.py), each running five
statements (two PRAGMAs, BEGIN IMMEDIATE, the INSERT, COMMIT) and taking the interpreter back after each:
under a burst of sixteen acks the queue, not the CPU, set the pace (bench/README.md, ingress, fifth pass).
A transaction is now the one INSERT of its rows, on a connection the group keeps (seventh pass).

So the writes that queue up while one transaction runs go together in the next: the first to arrive
with nobody writing leads, writes what is waiting (its own write and every other) in one hurried
transaction, tells each waiting thread its result, and hands the lead to the first write that came in
the meantime. A thread waits for the transaction that holds its write and never does more than one. The
transaction's time bound is the shortest left among its writes, so none is answered later than it asked;
when it fails (locked too long, or any error) every write in it fails with the same error and none is kept.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Engine, exc

from desk.db.engine import HurriedConnection, WouldWait

T = TypeVar("T")
R = TypeVar("R")
MOST_AT_ONCE = 64  # writes in one transaction at most (a multi-row INSERT's parameters stay well under SQLite's cap)
STUCK_SECONDS = 30.0  # a write taken into a transaction waits this long at most for its outcome (a safeguard)


class _Write(Generic[T, R]):
    __slots__ = ("item", "deadline", "woken", "taken", "leads", "result", "error")

    def __init__(self, item: T, deadline: float) -> None:
        self.item, self.deadline = item, deadline
        self.woken = threading.Event()
        self.taken = False  # in a transaction now: its outcome comes within that transaction's bound
        self.leads = False  # handed the lead: this thread writes the next transaction
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """`write(item, within=...)`: `apply(cursor, items)` run for this item and whatever else is waiting, as
    one transaction on SQLite: `apply` runs one statement that writes, SQLite's own transaction
    (engine.HurriedConnection); this item's part of what it returned (one result per item, in order).
    Raises what the transaction raised."""

    def __init__(self, engine: Engine, apply: Callable[[sqlite3.Cursor, Sequence[T]], list[R]]) -> None:
        self._engine = weakref.ref(engine)  # kept per engine, in a mapping weak on the engine: no cycle back
        self.apply = apply
        self._lock = threading.Lock()
        self._waiting: list[_Write[T, R]] = []
        self._writing = False  # a thread leads a transaction now (the others wait for the next one)
        self._connection = HurriedConnection()  # the leader's, one leader at a time
        self.transactions = 0  # committed so far, with `self.writes` writes in them: their ratio is the gain
        self.writes = 0

    def write(self, item: T, *, within: float, at_once: bool = False) -> R:
        """`at_once`: written now, alone, or not at all (`WouldWait`, nothing written): for a caller that
        must not wait, the server's own loop (desk/http_worker.py), while no other write is under way."""
        if at_once:
            return self._write_at_once(item)
        mine: _Write[T, R] = _Write(item, time.monotonic() + within)
        with self._lock:
            self._waiting.append(mine)
            mine.leads = not self._writing
            self._writing = True
        if not mine.leads:
            self._await(mine)
        if mine.leads:
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    @property
    def waiting(self) -> int:
        """Writes waiting for a transaction to take them."""
        with self._lock:
            return len(self._waiting)

    def _await(self, mine: _Write[T, R]) -> None:
        """Until this write's transaction has ended, or it is handed the lead; gives up if its time runs out
        before a transaction takes it."""
        if mine.woken.wait(max(mine.deadline - time.monotonic(), 0)):
            return
        with self._lock:
            taken = mine.taken or mine.leads
            if not taken:
                self._waiting.remove(mine)
        if not taken:
            mine.error = _gave_up("writes waiting for the transaction before theirs")
        elif not mine.woken.wait(STUCK_SECONDS):  # its transaction's bound is this write's deadline too
            mine.error = _gave_up(f"no outcome from its transaction after {STUCK_SECONDS:.0f} s")

    def _write_at_once(self, item: T) -> R:
        with self._lock:
            if self._writing:
                raise WouldWait("another transaction of the group is being written")
            self._writing = True
        try:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the engine of this group commit is gone")
            with self._connection.cursor(engine, timeout_seconds=0, at_once=True) as cursor:
                result = self.apply(cursor, [item])[0]
            self.transactions += 1
            self.writes += 1
            return result
        finally:
            self._hand_on()

    def _lead(self) -> None:
        now = time.monotonic()
        with self._lock:
            batch = self._waiting[:MOST_AT_ONCE]
            del self._waiting[:MOST_AT_ONCE]
            for write in batch:
                write.taken = True
        late = [write for write in batch if write.deadline <= now]  # waited out their time: not written
        live = [write for write in batch if write.deadline > now]
        for write in late:
            write.error = _gave_up("writes waiting for the transaction before theirs")
        if live:
            try:
                left = min(write.deadline for write in live) - now
                engine = self._engine()
                if engine is None:
                    raise RuntimeError("the engine of this group commit is gone")
                with self._connection.cursor(engine, timeout_seconds=left) as cursor:
                    results = self.apply(cursor, [write.item for write in live])
                for write, result in zip(live, results, strict=True):
                    write.result = result
                self.transactions += 1
                self.writes += len(live)
            except BaseException as err:  # noqa: BLE001 - each write's own caller raises it
                for write in live:
                    write.error = err
        self._hand_on()
        for write in batch:
            write.woken.set()

    def _hand_on(self) -> None:
        """The lead to the first write that came in meanwhile, or to nobody."""
        with self._lock:
            if self._waiting:
                self._waiting[0].leads = True
                self._waiting[0].woken.set()
            else:
                self._writing = False


def _gave_up(why: str) -> exc.OperationalError:
    """A write that was not made in time: the error `HurriedConnection` gives, so callers handle one kind."""
    return exc.OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(f"database is locked ({why})"))
