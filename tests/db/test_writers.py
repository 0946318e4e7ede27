"""A process's SQLite writers queue in Python, the hurried ones first."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import Engine, exc, select, text

from desk.db.engine import hurried, make_engine, reading
from desk.db.tables import InboxRow
from desk.db.writers import WriterQueue
from tests.holding import AT, write_held


def test_one_writer_at_a_time_and_a_late_one_gives_up() -> None:
    writers = WriterQueue()
    assert writers.acquire(timeout=1)
    assert not writers.acquire(timeout=0.05)
    writers.release()
    assert writers.acquire(timeout=0.05)


def test_a_hurried_writer_goes_before_those_already_waiting() -> None:
    writers = WriterQueue()
    order: list[str] = []
    assert writers.acquire(timeout=1)

    def write(name: str, hurried: bool) -> None:
        assert writers.acquire(timeout=5, hurried=hurried)
        order.append(name)
        writers.release()

    patient = threading.Thread(target=write, args=("patient", False))
    patient.start()
    time.sleep(0.05)  # the patient writer waits first
    hurried = threading.Thread(target=write, args=("hurried", True))
    hurried.start()
    time.sleep(0.05)
    writers.release()
    patient.join(5)
    hurried.join(5)
    assert order == ["hurried", "patient"]


def test_writers_of_one_kind_go_in_the_order_they_came() -> None:
    writers = WriterQueue()
    order: list[str] = []
    assert writers.acquire(timeout=1)

    def write(name: str) -> None:
        assert writers.acquire(timeout=5)
        order.append(name)
        writers.release()

    threads = [threading.Thread(target=write, args=(name,)) for name in ("first", "second", "third")]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # each waits before the next comes
    writers.release()
    for thread in threads:
        thread.join(5)
    assert order == ["first", "second", "third"]


def test_a_writer_that_gave_up_leaves_the_queue_to_the_next() -> None:
    writers = WriterQueue()
    assert writers.acquire(timeout=1)
    assert not writers.acquire(timeout=0.05, hurried=True)
    writers.release()  # nobody is left waiting: the queue is free, not handed to the writer that gave up
    assert writers.acquire(timeout=0)
    assert writers.holder().startswith(f"thread {threading.current_thread().name} for ")


def test_under_contention_one_writer_at_a_time_and_nobody_is_lost() -> None:
    """Threads taking the queue over and over, hurried or not, some with waits short enough to give up:
    never two holders at once, and every writer that was told it holds the queue did."""
    writers = WriterQueue()
    inside, most, held, gave_up = [0], [0], [0], [0]
    count = threading.Lock()

    def write(n: int) -> None:
        for i in range(300):
            if not writers.acquire(timeout=0.0005 if (n + i) % 7 == 0 else 5, hurried=(n + i) % 3 == 0):
                with count:
                    gave_up[0] += 1
                continue
            with count:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                held[0] += 1
            time.sleep(0)  # let another thread run while this one holds the queue
            with count:
                inside[0] -= 1
            writers.release()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert most[0] == 1
    assert held[0] + gave_up[0] == 12 * 300 and held[0] > 12 * 300 * 6 // 7
    assert writers.acquire(timeout=0)  # and it ends free


def test_a_connection_invalidated_mid_transaction_frees_the_queue_for_the_next_writer(tmp_path) -> None:
    """A disconnect error invalidates the connection: its transaction ends without a commit or rollback
    event, and the next writer (here a hurried one, with half a second) must not wait for it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text TEXT)")
    broken = engine.connect()
    broken.begin()
    broken.exec_driver_sql("INSERT INTO note VALUES ('lost with its connection')")
    broken.invalidate()
    with hurried(engine, timeout_seconds=0.5) as session:
        session.execute(text("INSERT INTO note VALUES ('kept')"))
    broken.close()  # ending what is left of it is quiet
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT text FROM note").scalars().all() == ["kept"]
    engine.dispose()


def test_a_hurried_writer_that_gives_up_names_who_holds_the_queue(tmp_path) -> None:
    """The line an operator reads when an ack's store gave up says which thread held the write, for how
    long, and where it was: the thread name and its innermost desk frame."""
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text TEXT)")
    holding, done = threading.Event(), threading.Event()

    def hold_the_write() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO note VALUES ('slow')")
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold_the_write, name="slow-writer")
    holder.start()
    assert holding.wait(5)
    try:
        with pytest.raises(exc.OperationalError) as refused, hurried(engine, timeout_seconds=0.2) as session:
            session.execute(text("INSERT INTO note VALUES ('late')"))
    finally:
        done.set()
        holder.join(5)
    assert re.search(r"writers queued; held by thread slow-writer for \d+\.\d\d s", str(refused.value))
    assert WriterQueue().holder() == "nobody (just released)"
    engine.dispose()


def test_a_read_for_the_work_after_an_ack_waits_for_no_writer_and_keeps_nothing(engine: Engine) -> None:
    """`reading` (the lookups of the work after an ack): while another thread holds a write transaction,
    the read neither waits for it (on SQLite it would have queued behind it for the write lock) nor sees
    its rows; and whatever is written through it is not kept."""
    with write_held(engine):
        started = time.monotonic()
        with reading(engine) as session:
            seen = session.execute(select(InboxRow.key)).scalars().all()
        waited = time.monotonic() - started
    assert seen == [] and waited < 2
    with reading(engine) as session:
        session.add(InboxRow(key="event:not-kept", kind="message", payload="{}", received_at=AT, leased_until=AT))
        session.flush()
    with reading(engine) as session:
        assert session.execute(select(InboxRow.key)).scalars().all() == ["event:held"]
