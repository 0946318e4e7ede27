"""The durable receipt in the Bolt app: a request with work after its ack is stored before the ack.

Slack never sends an acknowledged request again, so a web process that dies between the ack and the
work's transaction (a deploy, an OOM kill) would lose a council's message. Instead:

1. **Before the ack** (`Receipts.middleware`, a global Bolt middleware, so Socket Mode gets it too): an
   event whose type has kept work (`@kept(deps.receipts, "message")`) is stored in the inbox, one INSERT
   keyed `event:<event_id>`, waiting at most `store_within` seconds. Stored: the listener acks and its work
   runs after the ack as before. Already stored (Slack's retry, `X-Slack-Retry-Num`, of an event desk
   has): acked at once, without new work; a retry is first looked up with a read that waits for no
   writer, so it is answered even while the work that made Slack retry holds the write lock. Not stored
   in time (the database slow or unreachable): answered 503, so Slack delivers it again. Over HTTP an
   event is stored and acked the same way, in front of Bolt (`Receipts.take`, desk/slack/front.py), and
   its work is then dispatched as rework dispatches a row (3.), on the listener executor.
2. **The work** runs as before; its transaction records the same key (`intake.first_time`), which is
   what marks the row done. When the work ends without an effect (a bot's message, an edit, a reaction
   that is not :ticket:) or with a refusal, `kept` marks the row done itself; when no listener took the
   row at all (Bolt's middleware dropped it: desk's own message), the dispatch marks it done.
3. **Rework** (`Receipts.rework`, the worker's `inbox` job, on start and every few seconds): rows still
   unfinished after their lease are claimed (`FOR UPDATE SKIP LOCKED` on PostgreSQL), `REWORK_AT_ONCE` at
   a time, and their stored body is dispatched through the same Bolt app as Bolt's own "lazy only"
   request, so the same listener runs, synchronously, with every argument it would have had. Its effect
   happens once whatever runs twice: the delivery key is unique and written in the effect's transaction.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import Engine, exc

from desk.clock import Clock
from desk.db.engine import WouldWait, unit_of_work
from desk.db.outage import describe
from desk.errors import DeskError
from desk.observability import logs, metrics
from desk.services import inbox
from desk.slack.context import UNREACHABLE_TEXT

log = logging.getLogger("desk.slack")

F = TypeVar("F", bound=Callable[..., Any])

STORE_WITHIN = 1.0  # seconds the ack waits to store a request: well inside Slack's 3 s, with room for the rest
REWORK_AT_ONCE = 4  # rows reworked at a time: a backlog after a crash, mostly waiting on Slack's answers
REWORK = "desk_inbox_rework"  # context key on a request re-dispatched from the inbox (its inbox key)


def receipt_of(body: dict) -> tuple[str, str] | None:
    """(kind, key) of a request the inbox can keep: an event (kind: its type, key `event:<event_id>`) or a
    modal submission (kind: its callback_id, key `view:<view id>:<trigger id>`); None for anything else.
    An event's key is the one its listener's transaction records as a delivery (`intake.first_time`); a
    submission's row is marked done by `kept` when its work ends."""
    if body.get("type") == "view_submission":
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return None
        view_id, trigger = view.get("id"), body.get("trigger_id")
        if not (isinstance(view_id, str) and view_id):
            return None
        # each submission its own row: a form refused on its first submission (a required field left
        # blank) is submitted again with the same view id, and that one must be kept and worked too. The
        # effect is still once per view (`first_submission` records `view:<view id>`).
        per_submission = f":{trigger}" if isinstance(trigger, str) and 0 < len(trigger) <= 100 else ""
        return view["callback_id"], f"view:{view_id}{per_submission}"
    if body.get("type") != "event_callback":
        return None
    event, event_id = body.get("event"), body.get("event_id")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    if not isinstance(event_id, str) or not event_id:
        return None
    return event["type"], f"event:{event_id}"


class Receipts:
    """The inbox as the Bolt app uses it: which work is kept, the middleware, the rework."""

    def __init__(self, engine: Engine, clock: Clock, *, lease: timedelta, store_within: float = STORE_WITHIN):
        self.engine, self.clock, self.lease, self.store_within = engine, clock, lease, store_within
        self.work: dict[str, str] = {}  # kind (event type, modal callback_id) -> its lazy listener's name
        self.app: App | None = None  # the Bolt app rework dispatches through (set by build_app)
        self.executor: Executor | None = None  # where the work of an event `take`n runs (set by build_app)
        self._taken: set[str] = set()  # keys whose kept listener has started, until their dispatch returns

    # -- registration ------------------------------------------------------------------------------------

    def keep(self, *kinds: str) -> Callable[[F], F]:
        """`kinds`: an event type or a modal's callback_id; `message:<subtype>` for a listener of that
        subtype alone (edits and deletions have a listener of their own)."""
        def wrap(work: F) -> F:
            for kind in kinds:
                self.work[kind] = work.__name__

            @functools.wraps(work)
            def kept_work(body: dict, **kwargs: Any) -> None:
                found = receipt_of(body)
                if found is not None:
                    self._taken.add(found[1])
                try:
                    work(body=body, **kwargs)
                except DeskError:
                    self._done(body)  # a refusal is an answer: nothing to do again
                    raise
                self._done(body)  # with an effect (already marked by its transaction) or without one

            return kept_work  # type: ignore[return-value]

        return wrap

    def _done(self, body: dict) -> None:
        found = receipt_of(body)
        if found is None:
            return
        try:
            with unit_of_work(self.engine) as session:
                inbox.mark_done(session, found[1], at=self.clock.now())
        except Exception as err:  # the row stays unfinished: rework finds the effect recorded, or redoes it
            log.warning("could not mark %s done (%s): rework will", found[1], describe(err))

    # -- before the ack ----------------------------------------------------------------------------------

    def middleware(self) -> Callable[..., BoltResponse | None]:
        def durable_receipt(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse | None:
            if request.lazy_only or request.context.get(REWORK):
                return next()  # the work half of a request already stored
            found = receipt_of(request.body)
            kind = self._kind(request.body, found[0]) if found is not None else ""
            if found is None or kind not in self.work:
                return next()
            # an event as Slack sent it; an interaction (a form field `payload=`) as the JSON inside it
            payload = request.raw_body if request.raw_body.startswith("{") else json.dumps(request.body)
            retry = (request.headers.get("x-slack-retry-num") or [None])[0]
            answer = self._receive(request.body, kind, found[1], payload, retry)
            return next() if answer is None else answer

        return durable_receipt

    def take(self, document: dict, raw: str, retry: str | None, *, at_once: bool = False) -> BoltResponse | None:
        """The HTTP front's way for an event whose work is kept: stored, then acked without Bolt (a plain
        200), and its work started after the ack, on the listener executor, as rework runs a stored row's.
        None for anything else, which Bolt answers: only an event's ack is known before its listener runs (a
        form's may carry errors, and is left to Bolt and `middleware`). `at_once`: stored without waiting
        for any other writer, or `WouldWait` with nothing stored, counted or logged (a Slack retry, which
        is looked up first, too)."""
        if document.get("type") != "event_callback" or self.executor is None:
            return None
        found = receipt_of(document)
        kind = self._kind(document, found[0]) if found is not None else ""
        if found is None or kind not in self.work:
            return None
        if at_once and retry is not None:
            raise WouldWait("a retry is looked up before it is stored")
        answer = self._receive(document, kind, found[1], raw, retry, at_once=at_once)
        if answer is not None:
            return answer
        self.executor.submit(self._dispatch, inbox.Received(key=found[1], kind=kind, payload=raw, attempts=0),
                             document)
        return BoltResponse(status=200, body="")

    def _receive(self, body: dict, kind: str, key: str, payload: str, retry: str | None, *,
                 at_once: bool = False) -> BoltResponse | None:
        """Store a request before its ack: None once stored (its work goes on); else the answer to give."""
        try:
            # Slack retries when an answer was late: desk is most likely busy, and has the request
            had = retry is not None and inbox.stored(self.engine, key)
            stored = not had and inbox.store(self.engine, kind=kind, key=key, payload=payload,
                                             at=self.clock.now(), lease=self.lease, within=self.store_within,
                                             at_once=at_once)
        except WouldWait:
            raise  # nothing stored: the caller asks again where it may wait
        except Exception as err:  # slow, locked or unreachable: Slack must send it again
            metrics.INBOX.labels(kind=kind, outcome="refused").inc()
            if isinstance(err, exc.DBAPIError):
                log.warning("could not store %s within %s s (%s): answered so that it is sent again", key,
                            self.store_within, describe(err))
            else:  # not the database's answer: a bug, worth its traceback
                log.exception("could not store %s: answered so that it is sent again", key)
            return not_stored(body)
        if not stored:
            metrics.INBOX.labels(kind=kind, outcome="redelivered").inc()
            log.info("%s already received (Slack's retry %s): acked without new work", key, retry or "?")
            return BoltResponse(status=200, body="")
        metrics.INBOX.labels(kind=kind, outcome="stored").inc()
        return None

    def _kind(self, body: dict, kind: str) -> str:
        """The kind whose listener works `body`: `message:<subtype>` when one is kept for that subtype."""
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        subtype = event.get("subtype") if body.get("type") == "event_callback" else None
        specific = f"{kind}:{subtype}" if isinstance(subtype, str) else None
        return specific if specific in self.work else kind

    # -- rework ------------------------------------------------------------------------------------------

    def rework(self, *, limit: int = inbox.BATCH, at_once: int = REWORK_AT_ONCE) -> int:
        """Work again what was stored and not finished within its lease, at most `limit` rows, `at_once` at a
        time: the work mostly waits on Slack (users.info, the posts), so a crash's backlog drains in parallel,
        as live events are worked. Each row is claimed when its own work starts, so its lease runs from then.
        How many were claimed."""
        if self.app is None:
            raise RuntimeError("no Bolt app to rework the inbox through: build it first")
        budget = itertools.count()  # shared by the threads: next() on it is atomic

        def drain() -> int:
            claimed_here = 0
            while next(budget) < limit:
                with unit_of_work(self.engine) as session:
                    claimed = inbox.claim(session, now=self.clock.now(), lease=self.lease)
                if not claimed:
                    break
                claimed_here += 1
                self._rework(claimed[0])
            return claimed_here

        if at_once <= 1:
            return drain()
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="desk-rework") as pool:
            return sum(pool.map(lambda _: drain(), range(at_once)))

    def _rework(self, received: inbox.Received) -> None:
        metrics.INBOX.labels(kind=received.kind, outcome="reworked").inc()
        with logs.bind(request_id=received.key.partition(":")[2] or received.key):
            log.warning("reworking %s (%s), attempt %s: not finished within its lease", received.key,
                        received.kind, received.attempts)
            self._dispatch(received, json.loads(received.payload))
            if received.last_attempt and not self._finished(received.key):
                metrics.INBOX.labels(kind=received.kind, outcome="abandoned").inc()
                log.error("%s not done after %s attempts: left in the inbox for an operator",
                          received.key, received.attempts)

    def _dispatch(self, received: inbox.Received, body: dict) -> None:
        """Run the kept listener of a stored row, here and now. A row no listener took (Bolt's middleware
        dropped the event, desk's own message for one) is done: there is nothing to do again. One whose
        dispatch failed before a listener ran is left for rework."""
        assert self.app is not None
        name = self.work.get(received.kind)
        if name is None:
            log.error("no listener keeps %s work: %s left in the inbox", received.kind, received.key)
            return
        # Bolt's own "lazy only" request: no ack, the named lazy listener run here and now. Socket Mode's
        # shape (a parsed body): the signature was checked when Slack sent it, not reworked on every retry.
        request = BoltRequest(body=body, mode="socket_mode", context={REWORK: received.key},
                              headers={"x-slack-bolt-lazy-only": "1", "x-slack-bolt-lazy-function-name": name})
        self._taken.discard(received.key)
        answer = self.app.dispatch(request)
        if received.key in self._taken:
            self._taken.discard(received.key)
        elif answer.status < 500 and answer.status != 401:
            log.info("%s: no listener took it (%s): done", received.key, answer.status)
            self._done(body)

    def _finished(self, key: str) -> bool:
        with unit_of_work(self.engine) as session:
            return inbox.finished(session, key)


def not_stored(body: dict) -> BoltResponse:
    """The answer to a request that could not be stored: 503 for an event (Slack delivers it again); for a
    modal submission, the reason on its first input, so the form stays open with what was typed."""
    view = body.get("view") if body.get("type") == "view_submission" else None
    blocks = view.get("blocks") if isinstance(view, dict) else None
    block = next((b["block_id"] for b in (blocks if isinstance(blocks, list) else [])
                  if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("block_id"), str)), None)
    if block is not None:
        answer = {"response_action": "errors", "errors": {block: UNREACHABLE_TEXT}}
        return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
    return BoltResponse(status=503, body=json.dumps({"ok": False, "error": "not_stored"}),
                        headers={"content-type": "application/json"})


def kept(receipts: Receipts | None, *kinds: str) -> Callable[[F], F]:
    """A lazy listener whose work the inbox keeps (put it under `@guarded`); as it was without an inbox."""
    if receipts is None:
        return lambda work: work
    return receipts.keep(*kinds)
