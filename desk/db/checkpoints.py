"""SQLite's WAL checkpoints, taken off the writers' path.

In WAL mode a commit appends pages to the write-ahead log; a checkpoint copies them back into the database
file. By default SQLite checkpoints inside the COMMIT that takes the log past 1,000 pages, so that writer
waits while pages are copied, and in desk so does every writer queued behind it (desk/db/writers.py).
Measured on the intake benchmark: 10-15 % of opening a ticket.

desk turns that off on each connection (`PRAGMA wal_autocheckpoint=0`, desk/db/engine.py) and checkpoints
from one background thread per process instead: PASSIVE (it waits for no reader or writer, and copies what
it can), once `COMMITS` commits have been counted for a database file or a second after the last one,
whichever is first. The sqlite3 module lets go of the interpreter while SQLite copies, so that work runs
beside Python's, on another core.

The log must also start again from its beginning now and then, or it grows for ever: that happens when a
writer finds every page of the log copied. Under a steady stream of writers a checkpoint beside them never
gets there (they append while it copies), so each round ends with a second checkpoint taken with this
process's writers held back in their queue. It copies only what was appended during the first, which is
short; the log then stays about as long as before (`bench/README.md` has the figures).

A database file that has gone (a test's temporary directory) is forgotten: the thread opens files
read-write, never creating one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from urllib.parse import quote

from desk.db.writers import WriterQueue

log = logging.getLogger("desk.db")

COMMITS = 100  # commits to one file that wake the checkpointer at once (else it runs within `EVERY` seconds)
HOLD_WITHIN = 0.5  # seconds the second, short, checkpoint waits to hold the writers back (else: next round)
EVERY = 1.0  # seconds after a commit by which its pages are checkpointed, when fewer than COMMITS follow it


class Checkpointer:
    def __init__(self, *, commits: int = COMMITS, every: float = EVERY) -> None:
        self.commits, self.every = commits, every
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[int, WriterQueue]] = {}  # file -> (commits since its checkpoint, writers)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process that started the thread: a forked child starts its own

    def committed(self, path: str, writers: WriterQueue) -> None:
        """A transaction on `path` committed (or is about to): cheap, on every writer's path. `writers`: the
        queue this process's writers of `path` wait in."""
        with self._lock:
            count = self._pending.get(path, (0, writers))[0] + 1
            self._pending[path] = (count, writers)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._start()
        if count >= self.commits:
            self._wake.set()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="desk-wal-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            try:
                self.checkpoint_all()
            except Exception:  # a bug: worth its traceback, and the next round still runs
                log.exception("WAL checkpoints failed")

    def checkpoint_all(self) -> None:
        """Checkpoint every file with commits since its last checkpoint."""
        with self._lock:
            due, self._pending = self._pending, {}
        for path, (_, writers) in due.items():
            if checkpoint(path) is None:
                continue
            # the writers that committed while it copied appended pages it did not copy, so the log could not
            # start again from its beginning: copy those few with this process's writers held back
            if writers.acquire(timeout=HOLD_WITHIN):
                try:
                    checkpoint(path)
                finally:
                    writers.release()


def checkpoint(path: str) -> tuple[int, int, int] | None:
    """One PASSIVE checkpoint of `path`: (busy, pages in the log, pages copied), or None when the file
    could not be opened (it has gone) or SQLite refused (logged)."""
    try:
        connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=0, check_same_thread=False)
    except sqlite3.Error:
        return None  # gone: nothing to checkpoint
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error as err:  # a checkpoint that could not run now: the next one copies its pages
        log.debug("WAL checkpoint of %s did not run: %s", path, err)
        return None
    finally:
        connection.close()


CHECKPOINTS = Checkpointer()  # this process's
