"""Work after an ack waits for a quiet front door, and never longer than its bound."""

from __future__ import annotations

import threading
import time

from desk.slack.after_ack import FrontDoor


def test_work_waits_while_a_request_is_in_hand_and_starts_once_it_is_answered() -> None:
    front = FrontDoor(quiet_seconds=0.001)
    started = threading.Event()
    with front.answering():
        worker = threading.Thread(target=lambda: (front.wait_quiet(until=time.monotonic() + 5), started.set()))
        worker.start()
        assert not started.wait(0.1)  # the ack is still being answered: the work waits
    assert started.wait(2)  # answered: the work starts
    worker.join()


def test_work_starts_at_its_bound_however_busy_the_front_door() -> None:
    front = FrontDoor()
    with front.answering():
        began = time.monotonic()
        front.wait_quiet(until=began + 0.05)
        assert 0.04 <= time.monotonic() - began < 1


def test_a_quiet_front_door_holds_nothing_up() -> None:
    front = FrontDoor(quiet_seconds=0.0)
    began = time.monotonic()
    front.wait_quiet(until=began + 5)
    assert time.monotonic() - began < 0.5
