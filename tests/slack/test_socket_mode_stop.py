"""A Socket Mode stop that meets a busy connection: the process still stops, and in bounded time.

slack_sdk's client ends its reader by marking the session's state terminated, then closes the socket, then
joins the reader's thread with no time limit. Its reader restarts every 0.1 s and, on each start, marks the
state not terminated again: when closing the socket waits past that (an ack being written holds the send
lock; on a loaded machine, threads waiting for the interpreter), the reader starts over on a session that is
being closed, never ends, and `stop()` hung for good (a CI run stalled here for over an hour)."""

from __future__ import annotations

import threading
import time

from tests.slack.conftest import Desk


def test_a_stop_while_an_ack_is_being_written_still_stops(socket_desk: Desk) -> None:
    desk = socket_desk
    assert desk.runner is not None
    session = desk.runner.client.current_session
    assert session is not None
    writing = threading.Event()

    def an_ack_being_written() -> None:  # holds the connection's send lock, as a slow socket write does
        with session.sock_send_lock:
            writing.set()
            time.sleep(0.6)

    writer = threading.Thread(target=an_ack_being_written, daemon=True)
    writer.start()
    assert writing.wait(5)
    stopped: list[bool] = []
    stopping = threading.Thread(target=lambda: stopped.append(desk.runner.stop(timeout=5)), daemon=True)
    stopping.start()
    stopping.join(20)
    assert not stopping.is_alive(), "stop() did not return within 20 s"
    assert stopped == [True]
    assert not desk.runner.client.is_connected()
    reader = desk.runner.client.current_session_runner.thread
    assert reader is None or not reader.is_alive(), "the reader still runs on the closed connection"
