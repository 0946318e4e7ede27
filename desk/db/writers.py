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
from collections import deque
from pathlib import Path

_DESK = str(Path(__file__).resolve().parents[1])  # the desk package: where a holder's frames are worth naming


class _Waiter:
    """One writer waiting in the queue: its own lock, released by the writer before it to hand over."""

    __slots__ = ("ident", "turn")

    def __init__(self) -> None:
        self.ident = threading.get_ident()
        self.turn = threading.Lock()
        self.turn.acquire()


class WriterQueue:
    """Writers in order of arrival, the hurried before the rest; each release hands the queue straight to
    the next writer and wakes that one only.

    (A condition variable woke every waiting writer at each release, for one of them to go on: with the
    sixteen acks of a burst waiting, a store cost the process more in wake-ups than in SQLite; bench/README.md,
    ingress, fifth pass.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False  # while False, nobody waits: a release with writers waiting hands over instead
        self._hurried: deque[_Waiter] = deque()
        self._others: deque[_Waiter] = deque()
        self._holder: tuple[int, float] | None = None  # (thread ident, monotonic time it took the queue)

    def acquire(self, *, timeout: float, hurried: bool = False) -> bool:
        """Hold the queue; False if that did not happen within `timeout` seconds (at once, with none)."""
        with self._lock:
            if not self._held:
                self._held = True
                self._holder = (threading.get_ident(), time.monotonic())
                return True
            if timeout <= 0:
                return False
            waiter = _Waiter()
            queue = self._hurried if hurried else self._others
            queue.append(waiter)
        if waiter.turn.acquire(timeout=max(timeout, 0)):
            return True  # handed over by `release`, which named this thread the holder
        with self._lock:
            try:
                queue.remove(waiter)
            except ValueError:  # handed over as the wait ran out: it holds the queue, a moment late
                return True
            return False

    def release(self) -> None:
        with self._lock:
            queue = self._hurried or self._others
            if not queue:
                self._held = False
                self._holder = None
                return
            waiter = queue.popleft()
            self._holder = (waiter.ident, time.monotonic())
            waiter.turn.release()

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
