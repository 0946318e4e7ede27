"""Slack's requests answered by the web server's own loop (desk/http_worker.py, `DeskWsgi.front_door`).

A real `desk serve --http` (gunicorn, 1 worker x 8 threads, as shipped) on 127.0.0.1 with the Slack
stand-in. A plain signed request on a kept-alive connection is acked by the loop without a thread: the
same answer, log line and effect as a thread's, counted in `desk_loop_acks_total`. Everything else, and
an event whose store would have to wait, is served by a thread as before; while it waits, the loop goes on
answering. (Liveness checks with generous bounds, not benchmarks.)
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from desk.db.engine import make_engine
from desk.db.tables import TicketRow
from desk.sandbox import payloads
from tests.processes import eventually
from tests.security.frontdoor import Served, log_records, post_head, served
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL


def metric(desk: Served, name: str, **labels: str) -> float:
    """One sample of the web process's /metrics (0 when it has not been counted yet)."""
    _, text, _ = desk.get("/metrics")
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.decode().splitlines():
        found = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if found and ",".join(sorted((found.group(1) or "").split(","))) == wanted:
            return float(found.group(2))
    return 0.0


def tickets(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(TicketRow)).scalar_one()
    finally:
        engine.dispose()


def settled(desk: Served, database_url: str, opened: int, *, quiet: float = 0.3, timeout: float = 30) -> None:
    """Until the work after the acks so far is done: `opened` tickets, and no call to Slack for `quiet` s."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(desk.slack.calls) != last:
            last, since = len(desk.slack.calls), time.monotonic()
        elif time.monotonic() - since >= quiet and tickets(database_url) == opened:
            return
        time.sleep(0.05)
    raise AssertionError(f"still busy after {timeout} s: {tickets(database_url)} of {opened} tickets")


def signed_post(desk: Served, document: dict, **extra: str) -> bytes:
    body = json.dumps(document).encode()
    return post_head("/slack/events", length=len(body), extra={**desk.driver.signed_headers(body), **extra}) + body


def command_post(desk: Served) -> bytes:
    """A signed `/desk` from a council member, as the form Slack posts."""
    body = payloads.form_body(desk.driver.slash_command("", user=ALICE, user_team=CHERWELL,
                                                        channel=CHERWELL_CHANNEL)).encode()
    return post_head("/slack/events", length=len(body), content_type="application/x-www-form-urlencoded",
                     extra=desk.driver.signed_headers(body)) + body


def answers(client: socket.socket, count: int) -> list[tuple[str, dict[str, str], bytes]]:
    """`count` whole HTTP answers read from the connection: (status line, headers lower-cased, body)."""
    received, found = b"", []
    while len(found) < count:
        head_end = received.find(b"\r\n\r\n")
        if head_end >= 0:
            status, *fields = received[:head_end].decode("latin-1").split("\r\n")
            headers = {n.strip().lower(): v.strip() for n, _, v in (f.partition(":") for f in fields)}
            end = head_end + 4 + int(headers.get("content-length", "0"))
            if len(received) >= end:
                found.append((status, headers, received[head_end + 4:end]))
                received = received[end:]
                continue
        chunk = client.recv(65536)
        assert chunk, f"the server closed the connection after {len(found)} answers"
        received += chunk
    return found


def test_plain_signed_requests_on_a_kept_alive_connection_are_acked_by_the_loop(
        database_url: str, tmp_path: Path) -> None:
    sqlite = database_url.startswith("sqlite")
    with served(database_url, tmp_path) as desk:
        events = [desk.a_message(f"Card payments failing, report {n}") for n in range(4)]
        with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as client:
            for event in events[:2]:  # one after another
                client.sendall(signed_post(desk, event))
                [(status, headers, body)] = answers(client, 1)
                assert (status, body) == ("HTTP/1.1 200 OK", b"")
                assert headers["connection"] == "keep-alive" and headers["content-length"] == "0"
                assert headers["content-type"] == "text/plain;charset=utf-8" and headers["server"] == "gunicorn"
            client.sendall(signed_post(desk, events[2]) + signed_post(desk, events[3]))  # pipelined
            assert [a[0] for a in answers(client, 2)] == ["HTTP/1.1 200 OK"] * 2
            client.sendall(command_post(desk))
            assert [a[0] for a in answers(client, 1)] == ["HTTP/1.1 200 OK"]
        eventually(lambda: tickets(database_url) == 4, "a ticket for each event", timeout=30)
        eventually(lambda: desk.slack.calls_to("views.open"), "the /desk form opened", timeout=30)
        assert metric(desk, "desk_loop_acks_total", type="command") == 1  # no store, nothing to wait for
        assert metric(desk, "desk_requests_total", type="event", outcome="ok") == 4
        assert metric(desk, "desk_inbox_total", kind="message", outcome="stored") == 4
        lines = [r for r in log_records(desk.log) if re.fullmatch(r"event 200 ok in [0-9.]+ ms", r.get("message", ""))]
        assert sorted(r["request_id"] for r in lines) == sorted(e["event_id"] for e in events)

        # An event's store is made by the loop only when no other writer of the process is under way: the
        # work after the acks before it (opening their tickets) or a job of the worker takes a thread's
        # way instead. A burst that arrives with nothing else writing is stored by the loop on SQLite; on
        # PostgreSQL, where each write is a round trip to the server, always by threads.
        sent = 4
        for _ in range(5):
            settled(desk, database_url, sent)
            with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as client:
                client.sendall(b"".join(signed_post(desk, desk.a_message(f"Burst {sent + n}")) for n in range(3)))
                assert [a[0] for a in answers(client, 3)] == ["HTTP/1.1 200 OK"] * 3
            sent += 3
            if not sqlite or metric(desk, "desk_loop_acks_total", type="event") > 0:
                break
        loop_events = metric(desk, "desk_loop_acks_total", type="event")
        assert (0 < loop_events <= sent) if sqlite else loop_events == 0, loop_events
        eventually(lambda: tickets(database_url) == sent, "a ticket for each event", timeout=30)

        # what the loop leaves to a thread: a retry, a request that closes its connection, a bad signature
        retry = desk.driver.send_event(events[0], retry_num=1)
        assert retry.status == 200
        closing = signed_post(desk, desk.a_message("One more, then goodbye"), Connection="close")
        with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as client:
            client.sendall(closing)
            [(status, headers, _)] = answers(client, 1)
            assert status == "HTTP/1.1 200 OK" and headers["connection"] == "close"
            assert client.recv(10) == b""  # and the server closed it
        assert desk.driver.send_event(desk.a_message("forged"), secret="not-the-secret").status == 401
        eventually(lambda: tickets(database_url) == sent + 1, "the closing request's ticket, and no other", timeout=30)
        assert metric(desk, "desk_loop_acks_total", type="event") == loop_events
        assert metric(desk, "desk_inbox_total", kind="message", outcome="redelivered") == 1
        assert "Traceback" not in desk.log_text()


def test_while_sqlite_is_held_elsewhere_an_event_waits_on_a_thread_and_the_loop_goes_on(
        database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock, held by another process")
    with served(database_url, tmp_path) as desk:
        acked: list[tuple[int, float]] = []
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # as another process writing: SQLite's lock, not this process's queue
        try:
            sender = threading.Thread(target=lambda: acked.append(
                (lambda r: (r.status, r.elapsed))(desk.driver.send_event(desk.a_message(), timeout=10))))
            sender.start()
            time.sleep(0.25)  # (the event's thread waits at most 0.9 s for the lock: released well before)
            status, _, took = desk.get("/healthz")  # the loop is not the one waiting
            assert status == 200 and took < 0.3, took
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as client:
                client.sendall(command_post(desk))  # on a connection kept alive: the loop's to answer
                assert [a[0] for a in answers(client, 1)] == ["HTTP/1.1 200 OK"]
            assert time.monotonic() - started < 0.3
            assert not acked  # the event is still waiting for the lock, on its thread
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        sender.join(10)
        assert acked and acked[0][0] == 200 and acked[0][1] >= 0.25, acked  # stored once the lock was free
        eventually(lambda: tickets(database_url) == 1, "the event's ticket", timeout=30)
        assert metric(desk, "desk_loop_acks_total", type="event") == 0
        assert metric(desk, "desk_loop_acks_total", type="command") == 1
        assert metric(desk, "desk_inbox_total", kind="message", outcome="stored") == 1


def test_hundreds_of_requests_pipelined_on_one_connection_are_each_answered(
        database_url: str, tmp_path: Path) -> None:
    """1,500 events in one send: the loop reads them 64 KB at a time, so some arrive cut in two and wait for
    their rest; each answered in the loop leaves the next to the loop's next turn. Every one is answered,
    in order, and stored once."""
    with served(database_url, tmp_path) as desk:
        reactions = [payloads.reaction_added("eyes", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                             item_ts=f"1700000000.{n:06d}", item_user=ALICE) for n in range(1500)]
        with socket.create_connection(("127.0.0.1", desk.port), timeout=30) as client:
            client.sendall(b"".join(signed_post(desk, reaction) for reaction in reactions))
            assert [a[0] for a in answers(client, len(reactions))] == ["HTTP/1.1 200 OK"] * len(reactions)
        assert metric(desk, "desk_inbox_total", kind="reaction_added", outcome="stored") == len(reactions)
        assert "Traceback" not in desk.log_text() and "RecursionError" not in desk.log_text()
