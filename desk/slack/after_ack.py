"""The work after an ack: started off the ack's thread, and only once the front door is quiet (or soon).

Bolt starts a lazy listener by copying the request for it (a deep copy, and a second parse of the body)
on the thread that is answering Slack, before the answer goes out: on a button, most of the ack's time.
`AfterTheAck` does that copy on the listener's own thread instead; the ack keeps only what the copy is made
from (the raw body, headers, query and a copy of the context, which Bolt's own copy starts from too).

The work itself (opening a ticket, updating a card, opening a form) takes ten to fifty times an ack's time
and runs in the same process: while it runs, acks wait for the interpreter. Slack allows 3 s for the ack;
the work has seconds more (a form's `trigger_id` lives 3 s, a message is already stored in the inbox). So,
in a burst, acks go first: a piece of work waits until no Slack request has been in hand for `QUIET_SECONDS`
(`FrontDoor`, counted by the web front), and never longer than `YIELD_WITHIN` seconds after its ack. Between
requests (the usual case) it starts after a couple of milliseconds. Socket Mode and the inbox's rework do
not pass through the web front: their work never waits.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_bolt import App, BoltRequest
from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.util.utils import get_name_for_callable

QUIET_SECONDS = 0.002  # no Slack request in hand for this long: the burst is over, work may start
YIELD_WITHIN = 0.5  # work waits at most this long after its ack, whatever the load (a trigger_id lives 3 s)


class FrontDoor:
    """How many Slack requests the web front is answering right now, and since when none."""

    def __init__(self, *, quiet_seconds: float = QUIET_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.quiet_seconds = quiet_seconds
        self.clock = clock
        self._changed = threading.Condition()
        self._answering = 0
        self._last_answer = 0.0

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the answer to one Slack request."""
        with self._changed:
            self._answering += 1
        try:
            yield
        finally:
            with self._changed:
                self._answering -= 1
                self._last_answer = self.clock()
                if not self._answering:
                    self._changed.notify_all()

    def wait_quiet(self, *, until: float) -> None:
        """Return once no request has been in hand for `quiet_seconds`, or at `until` (the clock's time)."""
        with self._changed:
            while (now := self.clock()) < until:
                if self._answering:
                    self._changed.wait(until - now)
                    continue
                quiet_at = self._last_answer + self.quiet_seconds
                if now >= quiet_at:
                    return
                self._changed.wait(min(quiet_at, until) - now)


class AfterTheAck(ThreadListenerRunner):
    """Bolt's thread listener runner, starting lazy listeners as described above. `front`: None starts
    work at once (Bolt's default mode, whose acks run on the same executor as the work)."""

    front: FrontDoor | None = None
    yield_within: float = YIELD_WITHIN

    def _start_lazy_function(self, lazy_func: Callable[..., None], request: BoltRequest) -> None:
        name = get_name_for_callable(lazy_func)
        # what Bolt's copy is made from (`BoltRequest.to_copyable`), taken now: the request is not ours later
        body = request.raw_body if request.mode == "http" else copy.deepcopy(request.body)
        headers = {key: list(values) for key, values in request.headers.items()}
        query = {key: list(values) for key, values in request.query.items()}
        context = request.context.to_copyable()
        thread_context = (request.context.get("get_thread_context"), request.context.get("save_thread_context"))
        due = time.monotonic() + self.yield_within

        def work() -> None:
            if self.front is not None:
                self.front.wait_quiet(until=due)
            copied = BoltRequest(body=body, query=query, headers=headers, context=copy.deepcopy(context),
                                 mode=request.mode)
            copied.lazy_only = True
            copied.lazy_function_name = name
            copied.context["listener_runner"] = self
            for key, value in zip(("get_thread_context", "save_thread_context"), thread_context, strict=True):
                if value is not None:
                    copied.context[key] = value
            build_runnable_function(func=lazy_func, logger=self.logger, request=copied)()

        self.listener_executor.submit(work)


def run_work_after_the_ack(app: App, front: FrontDoor | None) -> None:
    """Make `app` start its lazy listeners as `AfterTheAck` does (its runner keeps everything else)."""
    runner = app.listener_runner
    runner.__class__ = AfterTheAck  # Bolt builds its runner itself; only how lazy work starts differs
    runner.front = front  # type: ignore[attr-defined]
