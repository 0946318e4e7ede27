"""Issue 12, finding 2: idle and slow clients must not hold the web process's threads.

A real `desk serve --http` (gunicorn, 1 worker x 8 threads, as shipped) on 127.0.0.1. Before the fix,
nine clients that sent headers and one byte stopped `/healthz` and Slack's events until they hung up: each
held a thread blocked reading a body that never came. Now a request is read whole before a thread sees
it, so twenty such clients cost twenty sockets and no thread; a client too slow for the deadline gets 408
and one log line. (Liveness checks with generous bounds, not benchmarks.)
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.processes import eventually
from tests.security.frontdoor import log_records, post_head, raw_exchange, served

LIVELY = 1.0  # seconds: /healthz and a signed event answer within this while the slow clients wait


def test_twenty_idle_slow_clients_do_not_stall_healthz_or_slack_events(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path) as desk:
        clients = []
        try:
            for n in range(20):
                client = socket.create_connection(("127.0.0.1", desk.port), timeout=5)
                if n % 4 == 0:
                    pass  # connected, says nothing
                elif n % 4 == 1:
                    client.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")  # half a header
                else:  # headers announcing a body, and one byte of it
                    client.sendall(post_head("/slack/events", length=2000) + b"{")
                clients.append(client)
            time.sleep(0.5)  # every one of them is in, holding what it can

            status, body, took = desk.get("/healthz")
            assert status == 200 and took < LIVELY, (status, body, took)
            response = desk.driver.send_event(desk.a_message(), timeout=5)
            assert response.status == 200 and response.elapsed < LIVELY, (response.status, response.elapsed)
            status, _, took = desk.get("/healthz")
            assert status == 200 and took < LIVELY
        finally:
            for client in clients:
                client.close()
        # and the event was acted on: a thread reply and a triage card, as usual
        eventually(lambda: len([c for c in desk.slack.calls_to("chat.postMessage") if c.ok]) >= 2,
                   "the event's confirmation and triage card", timeout=30)


def test_a_client_too_slow_with_its_request_gets_408_and_one_log_line(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, DESK_REQUEST_TIMEOUT_SECONDS="2") as desk:
        started = time.monotonic()
        status, answer = raw_exchange(desk.port, post_head("/slack/events", length=500) + b'{"type"')
        waited = time.monotonic() - started
        assert status == 408, answer
        assert 1.5 <= waited < 10, waited
        # an idle connection is closed the same way
        status, _ = raw_exchange(desk.port, b"")
        assert status == 408
        rejected = [r["message"] for r in log_records(desk.log) if r.get("message", "").startswith("rejected: 408")]
        assert len(rejected) == 2, desk.log_text()[-3000:]
        assert "Traceback" not in desk.log_text()
        assert desk.get("/healthz")[0] == 200


def test_an_oversize_or_unmeasured_body_is_refused_before_it_is_read(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path) as desk:
        started = time.monotonic()
        status, _ = raw_exchange(desk.port, post_head("/slack/events", length=5_000_000))  # no body follows
        assert status == 413 and time.monotonic() - started < 5
        chunked = (b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")
        status, _ = raw_exchange(desk.port, chunked)
        assert status == 411
        assert "Traceback" not in desk.log_text()


def test_pipelined_requests_on_one_connection_are_each_answered(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path) as desk:
        body = b'{"type": "url_verification", "challenge": "first"}' + b" " * 20_000  # read by its length
        headers = desk.driver.signed_headers(body)
        first = post_head("/slack/events", length=len(body), extra=headers) + body
        with socket.create_connection(("127.0.0.1", desk.port), timeout=10) as client:
            client.sendall(first + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            deadline = time.monotonic() + 10
            while b"\"migrations\"" not in answer and time.monotonic() < deadline:
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.count(b"HTTP/1.1 200") == 2 and b"first" in answer and b'"migrations"' in answer, answer
