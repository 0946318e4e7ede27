"""What became of an outbox row, written down: sent, cancelled, retried later, or given up (with an alert).

The dispatcher (desk/services/dispatch.py) decides; this module only records. A post is recorded in one
way, `Records.sent`: one UPDATE, built once, in its own committed transaction before the next post goes
out, so a crash leaves at most the post in flight unrecorded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, update
from sqlmodel import Session, select

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.services.ports import DeliveryFailed, OutboxItem

log = logging.getLogger("desk.dispatcher")

_OUTBOX = OutboxRow.__table__
MAX_ATTEMPTS = 8

# Built once: it runs once per post. A pending row carries no ts (a row queued again is reset), so a post
# Slack answered without one (a digest of several posts) leaves it empty as before.
_SENT = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id"))
         .values(status="sent", claimed_until=None, slack_ts=bindparam("ts"), sent_at=bindparam("at")))
_CANCELLED = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id"))
              .values(status="cancelled", claimed_until=None, last_error=bindparam("reason")))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 900))


class Records:
    """The connection a window's posts are recorded on, each in its own committed transaction, one after the
    other: checking a connection out of the pool for each costs about as much as the UPDATE. It is given
    back at the window's end, and at once after a failure (a blip: the next try takes a fresh one)."""

    def __init__(self, engine: Engine):
        self.engine, self.connection = engine, None

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def sent(self, outbox_id: int, *, ts: str | None, at: datetime) -> None:
        if self.connection is None:
            self.connection = self.engine.connect()
        try:
            with self.connection.begin():  # a transaction as `unit_of_work`'s, without a Session
                result = self.connection.execute(_SENT, {"outbox_id": outbox_id, "ts": ts, "at": at})
                assert result.rowcount == 1, f"no outbox row {outbox_id}"
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            connection.close()


def cancel(session: Session, outbox_id: int, *, reason: str) -> None:
    """A row that no longer makes sense (see outbox_staleness): one UPDATE, nothing read first."""
    result = session.execute(_CANCELLED, {"outbox_id": outbox_id, "reason": reason})
    assert result.rowcount == 1, f"no outbox row {outbox_id}"


def failed(engine: Engine, item: OutboxItem, failure: DeliveryFailed, now: datetime) -> str:
    """Record a post Slack did not take: "retried" (after `Retry-After`, which spends no attempt, or a
    backoff) or "failed" (permanent, or out of attempts; the triage channel is told)."""
    with unit_of_work(engine) as session:
        row = session.get(OutboxRow, item.id)
        assert row is not None
        row.last_error, row.claimed_until = failure.code, None
        outcome = "retried"
        if failure.retry_after is not None and not failure.permanent:
            row.available_at = now + timedelta(seconds=failure.retry_after)
            row.attempts = max(row.attempts - 1, 0)  # Slack said "later", not "no"
        elif failure.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status, outcome = "failed", "failed"
            log.error("gave up on %s after %s attempt(s): %s", item.key, row.attempts, failure.code)
            if item.kind != "alert":
                _alert(session, item, failure.code, now)
        else:
            row.available_at = now + backoff(row.attempts)
        session.add(row)
    return outcome


def _alert(session: Session, item: OutboxItem, code: str, now: datetime) -> None:
    """Tell the support team, in the triage channel, that something could not be delivered."""
    key = f"alert:{item.key}"
    if session.exec(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).first():
        return
    session.add(OutboxRow(idempotency_key=key, kind="alert", council_id=item.council_id, ticket_id=item.ticket_id,
                          target="triage", created_at=now, available_at=now,
                          payload={"failed_key": item.key, "failed_kind": item.kind, "target": item.target,
                                   "error": code, "ref": item.payload.get("ref")}))


def record_progress(engine: Engine, item: OutboxItem, part: str, done: dict) -> None:
    """Remember that Slack has accepted one part of a notification of several posts (a digest's text before
    its chart, one manager's copy before the next), so a retry after a failure carries on from there and
    never posts that part again. Kept in the row's payload, under "progress"."""
    with unit_of_work(engine) as session:
        row = session.get(OutboxRow, item.id)
        if row is None:
            return
        progress = dict(row.payload.get("progress") or {})
        progress[part] = {**progress.get(part, {}), **done}
        row.payload = {**row.payload, "progress": progress}
        session.add(row)
    item.payload.setdefault("progress", {}).setdefault(part, {}).update(done)  # this attempt sees it too
