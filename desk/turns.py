"""Acks first: in the web process, the work that can wait lets Slack's requests be answered before it.

Slack gives each request 3 seconds for its ack and sends it again (or shows the person an error) when the
ack is late. The work after an ack is kept (an event is in the inbox before its ack) and has no such
deadline. Both run in one interpreter, so during a burst of requests the work takes the interpreter's
lock from the acks: measured under `desk serve` during a burst of `/desk` (bench/README.md, issue 16), the
web process spent 1.66 ms of CPU a request where a bare server checking the signature spends 0.48 ms,
most of the difference the work after earlier acks, while the acks waited for the interpreter.

So the work waits its turn: it starts once no Slack request has been answered for `quiet` seconds (10 ms),
or once it has waited its `patience`, whichever comes first. Under a burst the acks go first and the
work follows in the gaps; under a stream that never pauses, nothing waits longer than its patience, and
the process is as it was. One quiet moment lets everything waiting through.

- Work after an ack (`desk.slack.executor.ListenerExecutor`) waits at most `AFTER_ACK_PATIENCE`: 1 s.
  Some of it opens a form with the request's `trigger_id`, which Slack honours for 3 s from the click,
  so 2 s are left for that work.
- The worker's jobs, when they run in the web process (SQLite), wait at most `JOB_PATIENCE` (2 s) before
  each run: a sweep or a dispatch a second or two late changes nothing a person sees. A dispatch also
  waits between its windows of posts, `WINDOW_PATIENCE` (0.25 s) at most each time, so that a long one
  (a backlog of triage cards) gives way to a burst of requests too, without stalling under a steady one.

The gate costs a request two uncontended lock round trips; nothing here touches the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

QUIET_SECONDS = 0.01  # no Slack request answered for this long: the web process is free for work
AFTER_ACK_PATIENCE = 1.0  # seconds work after an ack waits at most (2 of a trigger_id's 3 s left)
JOB_PATIENCE = 2.0  # seconds a worker job in the web process waits at most before it runs
WINDOW_PATIENCE = 0.25  # seconds a dispatch in the web process waits at most between its windows of posts


class AcksFirst:
    """Counts the Slack requests being answered; `wait_turn` holds work back while they are."""

    def __init__(self, *, quiet: float = QUIET_SECONDS):
        self.quiet = quiet
        self._lock = threading.Lock()
        self._answering = 0
        self._free_at = 0.0  # monotonic time from which work may run, if nothing is answered before it

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the answer to one Slack request (the web front's)."""
        with self._lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._lock:
                self._answering -= 1
                self._free_at = time.monotonic() + self.quiet

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def wait_turn(self, patience: float, *, since: float | None = None) -> float:
        """Wait until the web process is quiet, or until `patience` seconds after `since` (this gate's
        `now()` when the work was handed over; default: now) at most; the seconds waited here."""
        began = time.monotonic()
        deadline = (began if since is None else since) + patience
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if self._answering:  # the soonest it could be quiet: `quiet` from now
                time.sleep(min(deadline - now, self.quiet))
            elif now < self._free_at:
                time.sleep(min(deadline, self._free_at) - now)
            else:
                break
        return time.monotonic() - began
