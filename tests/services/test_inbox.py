"""The inbox (desk/services/inbox.py) on a real database: one row per key, claims after the lease, never
the same row to two claimers, done by the effect's delivery key, pruned when old."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, exc
from sqlmodel import Session, select

from desk.db.engine import WouldWait, unit_of_work
from desk.db.tables import InboxRow
from desk.scheduling.worker import Worker
from desk.services import inbox, intake
from tests.holding import write_held

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def store(engine: Engine, key: str, *, at: datetime = AT, within: float = 2.0, at_once: bool = False) -> bool:
    return inbox.store(engine, kind="message", key=key, payload=json.dumps({"event_id": key}), at=at, lease=LEASE,
                       within=within, at_once=at_once)


def stored_keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(row.key for row in session.exec(select(InboxRow)).all())


def claim(engine: Engine, at: datetime, limit: int = 1) -> list[inbox.Received]:
    with unit_of_work(engine) as session:
        return inbox.claim(session, now=at, lease=LEASE, limit=limit)


def test_a_key_is_stored_once_and_its_payload_kept_as_sent(engine: Engine) -> None:
    assert store(engine, "event:Ev1") is True
    assert store(engine, "event:Ev1", at=AT + timedelta(seconds=5)) is False  # Slack's retry
    with Session(engine) as session:
        rows = session.exec(select(InboxRow)).all()
    assert [(r.key, r.kind, r.payload, r.received_at, r.leased_until, r.attempts, r.done_at) for r in rows] == [
        ("event:Ev1", "message", '{"event_id": "event:Ev1"}', AT, AT + LEASE, 0, None)]


def test_a_stored_row_is_written_as_the_session_would_write_it(engine: Engine) -> None:
    """On SQLite the store skips the session (desk/db/engine.py `HurriedConnection`): its instants must still be
    stored as the same text, or comparisons with rows written through the session (the lease, pruning)
    would go wrong."""
    at = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)
    store(engine, "event:Ev1", at=at)
    with unit_of_work(engine) as session:
        session.add(InboxRow(key="event:Ev2", kind="message", payload="{}", received_at=at, leased_until=at + LEASE))
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT key, received_at, leased_until, attempts, done_at FROM inbox ORDER BY key").all()
    assert [tuple(row[1:]) for row in stored[:1]] == [tuple(row[1:]) for row in stored[1:]]
    assert [row[0] for row in stored] == ["event:Ev1", "event:Ev2"]


def test_an_unfinished_row_is_claimed_only_after_its_lease_then_held_longer_each_time(engine: Engine) -> None:
    store(engine, "event:Ev1")
    assert claim(engine, AT + LEASE - timedelta(seconds=1)) == []  # the process that acked it may be at work
    first = claim(engine, AT + LEASE)
    assert [(r.key, r.kind, r.attempts) for r in first] == [("event:Ev1", "message", 1)]
    assert claim(engine, AT + LEASE + timedelta(seconds=30)) == []  # held by the first claim
    second = claim(engine, AT + 2 * LEASE)
    assert [r.attempts for r in second] == [2]
    assert claim(engine, AT + 3 * LEASE) == []  # the second claim holds it for two leases
    assert [r.attempts for r in claim(engine, AT + 4 * LEASE)] == [3]


def test_a_row_whose_effect_was_recorded_is_done_not_reworked(engine: Engine) -> None:
    """The process died after the effect's transaction (which recorded the key) but before marking the row."""
    store(engine, "event:Ev1")
    store(engine, "event:Ev2")
    with unit_of_work(engine) as session:
        assert intake.first_time(session, "event:Ev1", "event", AT)
    assert [r.key for r in claim(engine, AT + LEASE, limit=5)] == ["event:Ev2"]
    with Session(engine) as session:
        assert inbox.finished(session, "event:Ev1") and not inbox.finished(session, "event:Ev2")
        assert session.get(InboxRow, "event:Ev1").done_at == AT + LEASE
        assert inbox.unfinished(session) == 1


def test_marked_done_rows_are_left_alone_and_pruned_once_old(engine: Engine) -> None:
    store(engine, "event:Ev1")
    store(engine, "event:Ev2")
    with unit_of_work(engine) as session:
        assert inbox.mark_done(session, "event:Ev1", at=AT) is True
        assert inbox.mark_done(session, "event:Ev1", at=AT) is False
        assert not inbox.waiting(session, now=AT + LEASE - timedelta(seconds=1))
        assert inbox.waiting(session, now=AT + LEASE)
    assert [r.key for r in claim(engine, AT + LEASE, limit=5)] == ["event:Ev2"]
    with unit_of_work(engine) as session:
        assert inbox.prune(session, before=AT) == 0
        assert inbox.prune(session, before=AT + timedelta(days=8)) == 1  # Ev2 is not done: kept
    with Session(engine) as session:
        assert [r.key for r in session.exec(select(InboxRow)).all()] == ["event:Ev2"]


def test_after_the_last_attempt_a_row_is_left_for_an_operator(engine: Engine) -> None:
    store(engine, "event:Ev1")
    at = AT
    for attempt in range(1, inbox.MAX_ATTEMPTS + 1):
        at += LEASE * inbox.BACKOFF_CAP
        (row,) = claim(engine, at)
        assert row.attempts == attempt and row.last_attempt == (attempt == inbox.MAX_ATTEMPTS)
    assert claim(engine, at + LEASE * 100) == []
    with Session(engine) as session:
        assert inbox.unfinished(session) == 1 and not inbox.waiting(session, now=at + LEASE * 100)


def test_claimers_at_once_never_take_the_same_row(engine: Engine) -> None:
    """Four claimers, each on its own connection, taking rows one at a time until none is left: each row
    is claimed exactly once (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time)."""
    keys = [f"event:Ev{n}" for n in range(40)]
    for key in keys:
        store(engine, key)
    taken: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer() -> None:
        try:
            start.wait()
            while rows := claim(engine, AT + LEASE):
                taken.extend(r.key for r in rows)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(taken) == sorted(keys)  # every row once: none twice, none missed


def test_postgresql_a_row_claimed_in_an_open_transaction_is_skipped_not_waited_for(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    store(engine, "event:Ev1")
    store(engine, "event:Ev2", at=AT + timedelta(seconds=1))
    with unit_of_work(engine) as first:
        held = inbox.claim(first, now=AT + LEASE * 2, lease=LEASE)  # not committed yet: the rows stay locked
        other = claim(engine, AT + LEASE * 2, limit=5)
        assert [r.key for r in held] == ["event:Ev1"] and [r.key for r in other] == ["event:Ev2"]


def test_storing_gives_up_rather_than_wait_long_for_the_database(engine: Engine) -> None:
    """Another transaction holds what the INSERT needs (SQLite: the write lock; PostgreSQL: the same key,
    inserted and not committed). The store gives up after its bound instead of the usual ten seconds
    (SQLite's busy timeout) or for ever (PostgreSQL)."""
    with unit_of_work(engine) as holder:
        holder.add(InboxRow(key="event:Ev1", kind="message", payload="{}", received_at=AT, leased_until=AT))
        holder.flush()
        started = time.monotonic()
        with pytest.raises(exc.OperationalError):
            store(engine, "event:Ev1", within=0.2)
        assert time.monotonic() - started < 5
    assert store(engine, "event:Ev2", within=0.2) is True  # once the holder is done, storing works again


def test_requests_stored_at_once_are_each_stored_once_and_only_one_of_a_key_is_told_new(engine: Engine) -> None:
    """A burst: sixteen requests and eight of Slack's retries of some of them, all storing at the same
    moment (on SQLite they share transactions: desk/db/group_commit.py). Each key is stored once, with its
    own payload, and exactly one of the requests with that key is told it is new."""
    keys = [f"event:Ev{n}" for n in range(16)] + [f"event:Ev{n}" for n in range(0, 16, 2)]
    told: dict[int, bool] = {}
    start = threading.Barrier(len(keys))

    def one(n: int) -> None:
        start.wait(5)
        told[n] = store(engine, keys[n], within=5)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(told) == list(range(len(keys)))
    for key in set(keys):
        assert sum(told[n] for n, k in enumerate(keys) if k == key) == 1, key
    with Session(engine) as session:
        rows = session.exec(select(InboxRow)).all()
    assert sorted((r.key, r.payload) for r in rows) == sorted(
        (key, json.dumps({"event_id": key})) for key in set(keys))


def test_on_sqlite_stores_that_waited_together_share_one_transaction(engine: Engine) -> None:
    """While a transaction holds the write, eight requests arrive: the first waits for the write, the other
    seven for it; once the write is free they are stored in two transactions, not eight."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes each row in its own transaction: its writers do not queue")
    group = inbox._stores(engine)
    before = (group.transactions, group.writes)
    told: list[bool] = []
    stores = [threading.Thread(target=lambda n=n: told.append(store(engine, f"event:Ev{n}", within=5)))
              for n in range(8)]
    with write_held(engine):
        for thread in stores:
            thread.start()
        deadline = time.monotonic() + 5
        while group.waiting < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in stores:
        thread.join(10)
    assert told == [True] * 8
    assert (group.transactions - before[0], group.writes - before[1]) == (2, 8)


def test_on_sqlite_stores_that_share_a_transaction_that_fails_each_fail_and_none_is_kept(engine: Engine) -> None:
    """Another process holds SQLite's write lock past the stores' bound: every store waiting raises (so
    Slack is asked to send it again), none is left stored, and storing works once the lock is free."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock, held by another connection")
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            store(engine, f"event:Ev{n}", within=0.3)
        except exc.OperationalError as err:
            errors.append(err)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 6 and time.monotonic() - started < 5
    assert all("locked" in str(err) for err in errors)
    other.execute("ROLLBACK")
    other.close()
    with Session(engine) as session:
        assert session.exec(select(InboxRow)).all() == []
    assert store(engine, "event:Ev0", within=0.3) is True


def test_a_store_asked_for_at_once_is_made_now_or_not_at_all(engine: Engine) -> None:
    """The web server's loop stores an event only if it need not wait (desk/http_worker.py): with no other
    writer it is stored as any other; while this process's writer, SQLite's write lock elsewhere, or a
    transaction of the group is under way it is refused with `WouldWait`, at once and with nothing stored;
    on PostgreSQL, where a write is a round trip to the server, always."""
    if engine.dialect.name != "sqlite":
        with pytest.raises(WouldWait):
            store(engine, "event:Ev1", at_once=True)
        assert stored_keys(engine) == []
        return
    assert store(engine, "event:Ev1", at_once=True) is True
    assert store(engine, "event:Ev1", at_once=True) is False  # a redelivery is an answer, not a wait

    def refused(key: str) -> None:
        started = time.monotonic()
        with pytest.raises(WouldWait):
            store(engine, key, at_once=True)
        assert time.monotonic() - started < 0.5

    with write_held(engine):  # a transaction of this process (another thread's)
        refused("event:Ev2")
    other = sqlite3.connect(engine.url.database, isolation_level=None)  # another process's, as SQLite sees it
    other.execute("BEGIN IMMEDIATE")
    refused("event:Ev3")
    other.execute("ROLLBACK")
    other.close()

    group, entered, release = inbox._stores(engine), threading.Event(), threading.Event()
    apply = group.apply

    def slow_apply(cursor, rows):  # the group's own transaction, held open in its statement's turn
        entered.set()
        release.wait(5)
        return apply(cursor, rows)

    group.apply = slow_apply
    try:
        writer = threading.Thread(target=lambda: store(engine, "event:Ev4", within=5))
        writer.start()
        assert entered.wait(5)
        refused("event:Ev5")
        release.set()
        writer.join(10)
    finally:
        group.apply = apply
    assert stored_keys(engine) == ["event:Ev1", "event:Ev4", "event:held"]  # the holder's own row, committed
    assert store(engine, "event:Ev6", at_once=True) is True  # and the lead was handed back


class _HandClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


class _Silent:
    def deliver(self, item) -> str | None:
        raise AssertionError(f"nothing should be sent: {item}")


def test_the_worker_reworks_on_its_schedule_and_prunes_done_rows_daily(engine: Engine) -> None:
    clock = _HandClock(AT)
    reworked: list[datetime] = []
    worker = Worker(engine, clock, _Silent(), rework=lambda: reworked.append(clock.now()) or 1,
                    inbox_lease=timedelta(seconds=2))
    every = {job.id: job.every for job in worker.jobs()}
    assert (every["inbox"], every["inbox_prune"]) == (timedelta(seconds=1), timedelta(days=1))
    assert Worker(engine, clock, _Silent(), inbox_lease=LEASE).inbox_every == timedelta(seconds=15)
    store(engine, "event:Ev1")
    store(engine, "event:Ev2")
    assert worker.inbox() == 0 and reworked == []  # within the lease: nothing is handed to the rework
    clock.at = AT + LEASE
    assert worker.inbox() == 1 and reworked == [AT + LEASE]
    with unit_of_work(engine) as session:
        inbox.mark_done(session, "event:Ev1", at=AT + LEASE)
    clock.at = AT + LEASE + timedelta(days=7)
    assert worker.prune_inbox() == 0  # done exactly seven days ago: kept
    clock.at += timedelta(seconds=1)
    assert worker.prune_inbox() == 1
    with Session(engine) as session:
        assert [r.key for r in session.exec(select(InboxRow)).all()] == ["event:Ev2"]
