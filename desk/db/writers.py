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

import threading
import time


class WriterQueue:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held = False
        self._hurried_waiting = 0

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
                return True
            finally:
                if hurried:
                    self._hurried_waiting -= 1
                    if not self._hurried_waiting:
                        self._changed.notify_all()  # writers that let the hurried go first

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()
