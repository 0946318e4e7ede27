"""The pool where Slack work runs after each ack, able to say when it is idle.

`drain` is what a graceful shutdown (and a test waiting for the effects of a request) needs: every piece
of work submitted so far has finished.

With `turns` (the web process's `AcksFirst`), each piece of work waits its turn before it starts: while
Slack's requests are being answered, for `patience` seconds at most (desk/turns.py). One piece at a time
watches the gate (it looks every 10 ms); the others wait behind it on a lock, asleep, and go through one
after another once the gate opens or their patience has run out. With every waiting thread looking, a burst
woke up to 8 threads a hundred times a second each, to take the interpreter from the acks they waited for.

Work runs inside a copy of the submitter's `contextvars` context, so what the web front bound for the
request (its id, for every log line) is still there when Bolt runs the lazy listener here.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from desk.turns import AFTER_ACK_PATIENCE, AcksFirst


class ListenerExecutor(ThreadPoolExecutor):
    def __init__(self, max_workers: int = 8, *, turns: AcksFirst | None = None,
                 patience: float = AFTER_ACK_PATIENCE):
        super().__init__(max_workers=max_workers, thread_name_prefix="desk-listener")
        self.turns, self.patience = turns, patience
        self._pending: set[Future] = set()
        self._lock = threading.Lock()
        self._turnstile = threading.Lock()  # one piece of work at a time watches the gate; the rest wait here

    def submit(self, fn, /, *args, **kwargs) -> Future:
        context = contextvars.copy_context()
        if self.turns is not None:  # the work waits its turn, counted from now
            fn, args = self._in_turn, (self.turns.now(), fn, *args)
        future = super().submit(context.run, fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _in_turn(self, handed: float, fn, /, *args, **kwargs):
        assert self.turns is not None
        with self._turnstile:
            self.turns.wait_turn(self.patience, since=handed)
        return fn(*args, **kwargs)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until all submitted work (including work submitted meanwhile) is done."""
        while True:
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return True
            _, not_done = wait(pending, timeout=timeout)
            if not_done:
                return False
