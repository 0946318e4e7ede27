"""Acks given in front of Bolt, for requests whose ack is known before their listener runs.

Bolt answers a request only after it has parsed it again, built its context, run its global middleware
and matched its listener: on this server, several times the cost of everything else an ack needs
(bench/bench_ingress.py). Most of desk's acks say nothing but "got it": every event, every slash command,
every button, menu and shortcut has a plain `ack()`, and its work runs after it. Only a form's submission
may answer with errors on its fields, so it is left to Bolt. The HTTP front (`desk.slack.web`) hands a
signed, well-formed request here, and `take` answers it without Bolt:

- **an event** whose work the inbox keeps is stored first (`Receipts.take`: the durable receipt), then
  acked; its work is the stored row's, run as rework runs it;
- **a slash command, a button or menu, a shortcut** is acked, then dispatched through the same Bolt app
  as a request with its ack already given ("lazy only"), so the same middleware, matching and listener
  run, with every argument they would have had, on the listener executor.

Anything else (a form's submission, an event the inbox does not keep, Slack's URL check, a command desk
has no listener for) is Bolt's to answer, as before. Measured in one process, one request at a time, with
nothing else running: a message event's ack (its inbox row stored) takes 0.35 ms here, a command's 0.14 ms
(bench/README.md).
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App, BoltRequest, BoltResponse

from desk.slack.after_ack import ACKED_IN_FRONT
from desk.slack.receipt import Receipts

log = logging.getLogger("desk.slack")

PLAIN_ACKS = {"block_actions", "shortcut", "message_action"}  # interactions whose listeners all ack() plainly


class Front:
    def __init__(self, app: App, executor: Executor, *, commands: set[str], receipts: Receipts | None = None):
        self.app, self.executor, self.receipts = app, executor, receipts
        self.commands = commands  # slash commands with a listener (another is Bolt's to refuse)

    def take(self, request: tuple[str, dict], body: bytes, retry: str | None, *,
             at_once: bool = False) -> BoltResponse | None:
        """The ack of a request answered here, its work started after it; None: Bolt answers it. `request`
        is the signed, well-formed body as `desk.slack.checks.examine` read it; `body`, its bytes.
        `at_once`: an event's store waits for no other writer (`desk.db.engine.WouldWait` otherwise, and
        nothing done)."""
        kind, document = request
        if kind == "event":
            if self.receipts is None:
                return None
            return self.receipts.take(document, body.decode("utf-8"), retry, at_once=at_once)
        if kind == "command" and document.get("command") not in self.commands:
            return None
        if kind == "interaction" and document.get("type") not in PLAIN_ACKS:
            return None
        self.executor.submit(self._work, document)
        return BoltResponse(status=200, body="")

    def _work(self, document: dict) -> None:
        """Bolt's "lazy only" request, its ack already given: middleware, matching, then the listener's work
        here and now (`desk.slack.after_ack` runs it inline). Socket Mode's shape (a parsed body): the
        signature was checked when Slack sent it."""
        request = BoltRequest(body=document, mode="socket_mode", context={ACKED_IN_FRONT: True},
                              headers={"x-slack-bolt-lazy-only": "1"})
        answer = self.app.dispatch(request)
        if answer.status >= 400:  # no listener took it, or Bolt refused it (its own log line says why)
            log.warning("%s acked, then not handled (%s)", document.get("type") or document.get("command"),
                        answer.status)
