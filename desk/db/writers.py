"""One SQLite writer at a time per process, queued in Python, the hurried ones first.

Every SQLite transaction desk opens for writing starts with BEGIN IMMEDIATE, which takes the database's
write lock or waits for it in SQLite's busy handler. That handler polls: it sleeps 1, 2, 5, ... up to 100 ms
between tries. With a dozen threads of one process wanting the lock at once (a burst of Slack requests:
each ack stores its request in the inbox, each piece of work after an ack runs a transaction or two), the
lock sat free while the threads slept, and acks missed their one-second budget for a write of a millisecond.

So the writers of one process queue here first: each is woken as soon as the one before it has finished,
and a hurried writer (the inbox's store before an ack, `desk.db.engine.hurried`) goes before those that
are not. Between processes (the worker and the web process on one file) SQLite's busy timeout still rules.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

_DESK = str(Path(__file__).resolve().parents[1])  # the desk package: where a holder's frames are worth naming


class WriterQueue:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held = False
        self._hurried_waiting = 0
        self._holder: tuple[int, float] | None = None  # (thread ident, monotonic time it took the queue)

    def acquire(self, *, timeout: float, hurried: bool = False) -> bool:
        """Hold the queue; False if that did not happen within `timeout` seconds."""
        until = time.monotonic() + timeout
        with self._changed:
            if hurried:
                self._hurried_waiting += 1
            try:
                while self._held or (not hurried and self._hurried_waiting):
                    left = until - time.monotonic()
                    if left <= 0:
                        return False
                    self._changed.wait(left)
                self._held = True
                self._holder = (threading.get_ident(), time.monotonic())
                return True
            finally:
                if hurried:
                    self._hurried_waiting -= 1
                    if not self._hurried_waiting:
                        self._changed.notify_all()  # writers that let the hurried go first

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._holder = None
            self._changed.notify_all()

    def holder(self) -> str:
        """Who holds the queue, for the line logged when a hurried writer gives up: the thread, for how long,
        and where it is now (its innermost frames in desk), or "nobody" when it was just released."""
        held = self._holder
        if held is None:
            return "nobody (just released)"
        ident, since = held
        thread = next((t.name for t in threading.enumerate() if t.ident == ident), str(ident))
        frame = sys._current_frames().get(ident)
        stack = [f for f in traceback.extract_stack(frame) if f.filename.startswith(_DESK)] if frame else []
        where = " < ".join(f"{f.name} (desk{f.filename[len(_DESK):]}:{f.lineno})" for f in stack[::-1][:4])
        return f"thread {thread} for {time.monotonic() - since:.2f} s" + (f", in {where}" if where else "")
