"""The durable receipt: requests stored before they are acknowledged, worked from the store.

A chat platform that is told "got it" never sends a request again, so a request with work to do after
its acknowledgement is first stored here (`store`: one INSERT, deduplicated by its key), then
acknowledged, then worked. A row is done when its effect's transaction recorded the same key as a
delivery (`intake.first_time`), or when the work ended without an effect (`mark_done`: a message from
a bot, an edit, a reaction that is not the ticket one). A row still unfinished once its lease has run out
(the process that took it died, or its work failed) is claimed again (`claim`, `FOR UPDATE SKIP LOCKED`
on PostgreSQL, so two claimers never take the same row) and worked again. Its effect is still recorded
once: the delivery key is unique and written in the effect's own transaction.

Adapter-neutral: the payload is the platform's text, stored and handed back as it came.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Insert, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from desk.db.engine import WouldWait, hurried, read_only
from desk.db.group_commit import GroupCommit
from desk.db.prepared import Compiled
from desk.db.tables import InboxRow, SlackDeliveryRow

MAX_ATTEMPTS = 10  # claims of one row by the rework job before it is left for an operator (a log line says so)
BACKOFF_CAP = 8  # the n-th claim holds a row for lease * 2**(n-1), at most lease * BACKOFF_CAP
BATCH = 20
INBOX = InboxRow.__table__
_STORED = ("key", "kind", "payload", "received_at", "leased_until", "attempts")  # what `store` writes


def held_for(lease: timedelta, attempts: int) -> timedelta:
    """How long the `attempts`-th claim holds a row: a process killed again and again while working it (or
    work that keeps failing) is tried less and less often, not in a tight loop."""
    return lease * min(2 ** max(attempts - 1, 0), BACKOFF_CAP)


@dataclass(frozen=True)
class Received:
    key: str
    kind: str
    payload: str
    attempts: int  # including this claim

    @property
    def last_attempt(self) -> bool:
        return self.attempts >= MAX_ATTEMPTS


def store(engine: Engine, *, kind: str, key: str, payload: str, at: datetime, lease: timedelta,
          within: float, at_once: bool = False) -> bool:
    """Store a request before its acknowledgement; False if one with this key was stored before (a
    redelivery). Held by the caller until `at + lease`. Gives up (raises) after `within` seconds of waiting.
    On SQLite the rows of requests that arrive together are written in one transaction (`_stores`).
    `at_once`: stored now without waiting for any other writer, or `WouldWait` (nothing stored); on
    PostgreSQL, where every write is a round trip to the server, always `WouldWait`."""
    values = {"key": key, "kind": kind, "payload": payload, "received_at": at, "leased_until": at + lease,
              "attempts": 0}
    if engine.dialect.name == "sqlite":
        return _stores(engine).write(values, within=within, at_once=at_once)
    if at_once:
        raise WouldWait("a PostgreSQL write is a round trip to the server")
    with hurried(engine, timeout_seconds=within) as session:
        # a Core statement on the session's connection: no ORM execution before an ack
        return session.connection().execute(_storing(engine.dialect.name), values).first() is not None


_GROUPS: weakref.WeakKeyDictionary[Engine, GroupCommit[dict[str, Any], bool]] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _stores(engine: Engine) -> GroupCommit[dict[str, Any], bool]:
    """The engine's group commit of inbox rows (desk/db/group_commit.py), made on first use."""
    with _GROUPS_LOCK:
        group = _GROUPS.get(engine)
        if group is None:
            group = _GROUPS[engine] = GroupCommit(engine, _insert_sqlite)
        return group


def _insert_sqlite(cursor: sqlite3.Cursor, rows: Sequence[dict[str, Any]]) -> list[bool]:
    """The rows in one INSERT on a bare cursor (no session: see `HurriedConnection`); for each, whether it
    was stored. A key twice among them (Slack's retry beside its first delivery) is stored for the first."""
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        firsts.setdefault(row["key"], row)
    statement = _storing_sqlite(len(firsts))
    stored = {key for (key,) in cursor.execute(statement.sql, statement.parameters(firsts.values())).fetchall()}
    return [row["key"] in stored and firsts[row["key"]] is row for row in rows]


@functools.cache
def _storing(dialect: str) -> Insert:
    """The inbox's INSERT, built once per dialect: its values come as parameters."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(INBOX).on_conflict_do_nothing().returning(INBOX.c.key)


@functools.cache
def _storing_sqlite(rows: int) -> Compiled:
    """The inbox's INSERT of `rows` rows as SQLite's SQL, each row's values bound as the session path binds
    them (instants as UTCDateTime stores them on SQLite): each row is the one that path writes, to the
    character."""
    return Compiled(_storing("sqlite"), sqlite.dialect(), tuple(_STORED), rows)


def stored(engine: Engine, key: str) -> bool:
    """Whether a request with this key was stored: a read that takes no write lock and waits for no writer
    (SQLite in WAL mode; PostgreSQL's plain SELECT passes the inbox's locks), so a retry Slack sends while
    desk is busy is answered without queueing behind the work that made it late."""
    with read_only(engine) as session:
        return session.execute(select(InboxRow.key).where(InboxRow.key == key)).first() is not None


def _finished():
    return exists().where(SlackDeliveryRow.key == InboxRow.key)


def claim(session: Session, *, now: datetime, lease: timedelta, limit: int = 1) -> list[Received]:
    """Take unfinished rows whose lease has run out, oldest first (for `held_for(lease, attempts)`); rows
    whose effect was recorded (the process died after its transaction, before marking the row) are marked
    done instead. One at a time by default: each is held from when its own work starts."""
    session.execute(update(InboxRow)
                    .where(col(InboxRow.done_at).is_(None), col(InboxRow.leased_until) <= now, _finished())
                    .values(done_at=now))
    rows = session.execute(
        select(InboxRow.key, InboxRow.kind, InboxRow.payload, InboxRow.attempts)
        .where(col(InboxRow.done_at).is_(None), col(InboxRow.leased_until) <= now,
               col(InboxRow.attempts) < MAX_ATTEMPTS)
        .order_by(InboxRow.received_at, InboxRow.key)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        session.execute(update(InboxRow).where(InboxRow.key == row.key)
                        .values(leased_until=now + held_for(lease, row.attempts + 1), attempts=row.attempts + 1))
    return [Received(r.key, r.kind, r.payload, r.attempts + 1) for r in rows]


def waiting(session: Session, *, now: datetime) -> bool:
    """Whether any row is due for rework (a cheap look before building what reworks it)."""
    return session.execute(select(InboxRow.key).where(
        col(InboxRow.done_at).is_(None), col(InboxRow.leased_until) <= now,
        col(InboxRow.attempts) < MAX_ATTEMPTS).limit(1)).first() is not None


def mark_done(session: Session, key: str, *, at: datetime) -> bool:
    """The work of `key` is over (with or without an effect); False if it was already marked."""
    result = session.execute(update(InboxRow).where(InboxRow.key == key, col(InboxRow.done_at).is_(None))
                             .values(done_at=at))
    return bool(result.rowcount)


def finished(session: Session, key: str) -> bool:
    """Whether the work of `key` is over: marked done, or its effect recorded."""
    done = session.execute(select(InboxRow.done_at).where(InboxRow.key == key)).first()
    recorded = session.execute(select(SlackDeliveryRow.key).where(SlackDeliveryRow.key == key)).first()
    return recorded is not None or (done is not None and done[0] is not None)


def unfinished(session: Session) -> int:
    """Rows not done yet: in flight, waiting for their lease to run out, or given up on."""
    return session.execute(select(func.count()).select_from(InboxRow)
                           .where(col(InboxRow.done_at).is_(None))).scalar_one()


def prune(session: Session, *, before: datetime) -> int:
    """Forget rows done before `before` (their keys stay in slack_delivery, which dedups effects)."""
    result = session.execute(delete(InboxRow).where(col(InboxRow.done_at).is_not(None),
                                                    col(InboxRow.done_at) < before))
    return result.rowcount or 0


def forget_finished(session: Session, *, mentioning: str) -> int:
    """Delete the finished rows whose stored request mentions `mentioning` (a person's id, for
    `desk privacy redact`): their work is done, so nothing is lost, and the person's words go with them.
    Unfinished rows stay: they are a council's request still to be worked."""
    result = session.execute(delete(InboxRow).where(
        or_(col(InboxRow.done_at).is_not(None), _finished()), col(InboxRow.payload).contains(mentioning)))
    return int(result.rowcount or 0)
