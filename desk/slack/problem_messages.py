"""A problem's own message in the triage channel, and its broadcast to councils, through the outbox.

The triage message lists the problem's tickets by council and is updated in place (chat.update) after every
change. It is posted once: the row `problem_message:{id}:post` is the only one that may post; every change
adds a row keyed by the request that made it (`problem_message:{id}:{key}`: a double click or a redelivered
request adds nothing), which updates the message as it is when the row is sent. An update whose message is
not posted yet waits for the post (a transient failure, retried), so no change is lost to that race.

A broadcast is one row per problem × council (`problem_broadcast:{id}:{council}`), each posted in that
council's own support channel with only what councils may read (desk/slack/blocks/problems.py `broadcast`):
a second broadcast of the same problem posts nothing new.

Rows are written by the listener that made the change (or by the announcement of a ticket that intake linked
to a problem); the listener sends them at once through the dispatcher (`notifier.tell_now`), and the worker
sends whatever Slack did not take.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.db.tables import CouncilRow, OutboxRow
from desk.services import problems
from desk.services.ports import DeliveryFailed
from desk.services.tenancy import directory
from desk.slack.blocks import problems as blocks
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack")

MESSAGE, BROADCAST = "problem_message", "problem_broadcast"
KINDS = frozenset({MESSAGE, BROADCAST})


def _add(session: Session, *, key: str, kind: str, target: str | None, at: datetime, payload: dict[str, Any],
         council_id: str | None = None) -> bool:
    """An outbox row, once per key; True when it is new."""
    if session.exec(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).first() is not None:
        return False
    session.add(OutboxRow(idempotency_key=key, kind=kind, council_id=council_id, target=target, created_at=at,
                          available_at=at, payload=payload))
    session.flush()
    return True


def queue_message(session: Session, problem_id: int, *, key: str, at: datetime) -> None:
    """Bring the problem's triage message up to date (post it first if it has none), once per `key`."""
    problem = problems.get_problem(session, problem_id)
    triage = directory(session).triage_channel
    if not triage:
        return  # no triage channel configured: nothing to post to
    assert problem.id is not None
    if problem.triage_ts is None and _add(session, key=f"{MESSAGE}:{problem.id}:post", kind=MESSAGE,
                                          target=triage, at=at, payload={"problem": problem.id, "post": True}):
        return  # the post shows the problem as it is when it is sent
    _add(session, key=f"{MESSAGE}:{problem.id}:{key}"[:200], kind=MESSAGE, target=triage, at=at,
         payload={"problem": problem.id})


def queue_broadcast(session: Session, problem_id: int, *, at: datetime) -> list[str]:
    """One broadcast row per active council with a support channel not already told; the councils queued."""
    problem = problems.get_problem(session, problem_id)
    assert problem.id is not None
    queued = []
    councils = session.exec(select(CouncilRow).where(col(CouncilRow.active).is_(True)).order_by(CouncilRow.id)).all()
    for council in councils:
        channels = (council.slack or {}).get("channels") or []
        if channels and _add(session, key=f"{BROADCAST}:{problem.id}:{council.id}", kind=BROADCAST,
                             target=channels[0], at=at, council_id=council.id,
                             payload={"problem": problem.id, "council": council.id}):
            queued.append(council.id)
    return queued


def deliver(client: WebClient, deps: Deps, kind: str, payload: dict[str, Any]) -> str | None:
    """The dispatcher's half (raising what Slack raises, or `DeliveryFailed`)."""
    if kind == MESSAGE:
        return _message(client, deps, int(payload["problem"]), post=bool(payload.get("post")))
    if kind == BROADCAST:
        return _broadcast(client, deps, int(payload["problem"]), str(payload["council"]))
    raise ValueError(f"problem_messages does not deliver {kind!r}")


def _message(client: WebClient, deps: Deps, problem_id: int, *, post: bool) -> str | None:
    now = deps.clock.now()
    with unit_of_work(deps.engine) as session:
        view = problems.problem_view(session, problem_id, now=now)
        names = {c.id: c.name for c in session.exec(select(CouncilRow)).all()}
        triage = directory(session).triage_channel
        post_status = session.exec(select(OutboxRow.status).where(
            OutboxRow.idempotency_key == f"{MESSAGE}:{problem_id}:post")).first()
    message = blocks.triage_message(view, names, now)
    if view.triage_ts and view.triage_channel:
        client.chat_update(channel=view.triage_channel, ts=view.triage_ts, text=message.text, blocks=message.blocks)
        return str(view.triage_ts)
    if not post:
        if post_status == "pending":  # the post is on its way (or being retried): this update follows it
            raise DeliveryFailed("the problem's message is not posted yet")
        return None  # never posted (no triage channel then, or given up on): nothing to update
    if not triage:
        raise DeliveryFailed("no triage channel configured", permanent=True)
    posted = client.chat_postMessage(channel=triage, **message.post_kwargs())

    def record() -> None:
        with unit_of_work(deps.engine) as session:
            problems.set_triage_message(session, problem_id, channel=str(posted["channel"]), ts=str(posted["ts"]))

    patiently(record, what=f"recording where {view.problem.ref}'s message was posted")  # else posted twice
    log.info("problem %s: triage message posted", view.problem.ref)
    return str(posted["ts"])


def _broadcast(client: WebClient, deps: Deps, problem_id: int, council_id: str) -> str | None:
    now = deps.clock.now()
    with unit_of_work(deps.engine) as session:
        view = problems.problem_view(session, problem_id, now=now)
        council = session.get(CouncilRow, council_id)
    channels = (council.slack or {}).get("channels") or [] if council is not None and council.active else []
    if not channels:
        log.info("problem %s: council %s has no channel now: not broadcast", view.problem.ref, council_id)
        return None
    message = blocks.broadcast(council_view(view))
    posted = client.chat_postMessage(channel=channels[0], **message.post_kwargs())
    return str(posted["ts"])


def council_view(view: problems.ProblemView) -> problems.KnownProblem:
    """What any council may read about a problem (no tickets, no councils, no working title shown)."""
    problem = view.problem
    latest = view.updates[-1].text if view.updates else None
    return problems.KnownProblem(id=problem.id, ref=problem.ref, title=problem.title, summary=view.summary,
                                 status=problem.status, status_label=problem.status_label,
                                 workaround=view.workaround, latest_update=latest)
