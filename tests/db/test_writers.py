"""A process's SQLite writers queue in Python, the hurried ones first."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import exc, text

from desk.db.engine import hurried, make_engine
from desk.db.writers import WriterQueue


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
