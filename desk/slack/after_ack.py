"""The work after an ack starts off the ack's thread.

Bolt starts a lazy listener by copying the request for it (a deep copy, and a second parse of the body)
on the thread that is answering Slack, before the answer goes out: on a button, most of the ack's time.
`AfterTheAck` does that copy on the listener's own thread instead; the ack keeps only what the copy is made
from (the raw body, headers, query and a copy of the context, which Bolt's own copy starts from too).
A request acked in front of Bolt (`desk.slack.front`) is already on the listener's thread, after its
ack: its work runs there and then.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from slack_bolt import App, BoltRequest
from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.util.utils import get_name_for_callable

ACKED_IN_FRONT = "desk_acked_in_front"  # context key: this request's ack was given in front of Bolt


class AfterTheAck(ThreadListenerRunner):
    """Bolt's thread listener runner, copying the request for a lazy listener on the listener's thread."""

    def _start_lazy_function(self, lazy_func: Callable[..., None], request: BoltRequest) -> None:
        if request.context.get(ACKED_IN_FRONT):  # already after the ack, on a listener's thread
            if request.context.ack.response is None:
                request.context.ack()  # the ack already given, so that Bolt counts the request handled
            build_runnable_function(func=lazy_func, logger=self.logger, request=request)()
            return
        name = get_name_for_callable(lazy_func)
        # what Bolt's copy is made from (`BoltRequest.to_copyable`), taken now: the request is not ours later
        body = request.raw_body if request.mode == "http" else copy.deepcopy(request.body)
        headers = {key: list(values) for key, values in request.headers.items()}
        query = {key: list(values) for key, values in request.query.items()}
        context = request.context.to_copyable()
        thread_context = (request.context.get("get_thread_context"), request.context.get("save_thread_context"))

        def work() -> None:
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


def run_work_after_the_ack(app: App) -> None:
    """Make `app` start its lazy listeners as `AfterTheAck` does (its runner keeps everything else)."""
    app.listener_runner.__class__ = AfterTheAck  # Bolt builds its runner itself; only the lazy start differs
