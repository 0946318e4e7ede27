"""A process's SQLite writers queue in Python, the hurried ones first."""

from __future__ import annotations

import threading
import time

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
