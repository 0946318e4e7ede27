"""Structured logs: JSON lines that parse, readable text on a terminal, the request id and ticket ref on
each line (also in the listener thread), and never a token."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from desk.config import Settings
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.observability import logs
from desk.observability.logs import Redactor, configure_logging
from desk.sandbox.slack_api import SlackStandIn
from desk.slack.executor import ListenerExecutor
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import MONDAY, SECRET

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a desk JSON handler, into a string."""
    stream = io.StringIO()
    logger = logging.getLogger("desk.test.logs")
    handler = logs.handler(stream, fmt="json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_bot_token_never_reaches_a_log_line(capture) -> None:
    logger, stream = capture
    logger.info("calling Slack with %s", BOT_TOKEN)
    logger.info("headers: %s", {"Authorization": f"Bearer {BOT_TOKEN}", "x": APP_TOKEN})
    logger.warning(f"token in the message itself: {BOT_TOKEN}")
    logger.info("an extra field", extra={"token": BOT_TOKEN})
    try:
        raise RuntimeError(f"refused {BOT_TOKEN}")
    except RuntimeError:
        logger.exception("failed")
    output = stream.getvalue()
    assert "xoxb-" not in output and "xapp-" not in output
    assert "1234567890-0987654321" not in output and "AbCdEfGh" not in output
    records = lines(stream)
    assert records[0]["message"] == "calling Slack with [redacted]"
    assert "Bearer [redacted]" in records[1]["message"]
    assert "RuntimeError: refused [redacted]" in records[4]["exception"]


def test_configured_secrets_are_redacted_too() -> None:
    redact = Redactor([SECRET, "pw", None])  # too short to be a secret: left alone
    assert redact(f"signing secret {SECRET} and the password pw") == "signing secret [redacted] and the password pw"
    settings = Settings.from_environ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                                      "DESK_DATABASE_URL": "postgresql+psycopg://desk:s3cr3t-pw@db/desk"})
    assert set(settings.secret_values) == {BOT_TOKEN, SECRET, "s3cr3t-pw"}


def test_json_lines_parse_and_carry_the_request_id_and_the_ticket(capture) -> None:
    logger, stream = capture
    logger.info("before any request")
    with logs.bind(request_id="Ev0123ABCD"):
        logger.info("in a request")
        with logs.bind(ticket="CHW-7"):
            logger.info("about a ticket", extra={"attempt": 2})
    logger.info("after")
    first, inside, ticket, after = lines(stream)
    assert set(first) == {"at", "level", "logger", "message", "request_id", "ticket"}
    assert first["level"] == "INFO" and first["logger"] == "desk.test.logs" and first["at"].endswith("+00:00")
    assert (first["request_id"], first["ticket"]) == (None, None)
    assert (inside["request_id"], inside["ticket"]) == ("Ev0123ABCD", None)
    assert (ticket["request_id"], ticket["ticket"], ticket["attempt"]) == ("Ev0123ABCD", "CHW-7", 2)
    assert (after["request_id"], after["ticket"]) == (None, None)


def test_the_request_id_follows_work_into_the_listener_executor(capture) -> None:
    logger, stream = capture
    executor = ListenerExecutor(max_workers=2)
    try:
        with logs.bind(request_id="Ev0LAZY"):
            executor.submit(logger.info, "after the ack")
        executor.submit(logger.info, "another request")
        assert executor.drain(5)
    finally:
        executor.shutdown()
    by_message = {line["message"]: line["request_id"] for line in lines(stream)}
    assert by_message == {"after the ack": "Ev0LAZY", "another request": None}


def test_text_on_a_terminal_json_elsewhere_unless_told() -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        terminal = Terminal()
        configure_logging(terminal)
        with logs.bind(request_id="Ev0TEXT", ticket="CHW-2"):
            logging.getLogger("desk.test").info("hello %s", BOT_TOKEN)
        line = terminal.getvalue().strip()
        assert line.endswith("INFO desk.test hello [redacted] [request=Ev0TEXT ticket=CHW-2]"), line

        piped = io.StringIO()
        configure_logging(piped)
        logging.getLogger("desk.test").info("hello")
        assert json.loads(piped.getvalue())["message"] == "hello"

        told = Terminal()
        configure_logging(told, fmt="json")  # DESK_LOG_FORMAT=json on a terminal
        logging.getLogger("desk.test").info("hello")
        assert json.loads(told.getvalue())["message"] == "hello"
        assert [h for h in root.handlers if getattr(h, "_desk", False)] == [root.handlers[-1]]  # replaced, not stacked
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_desk_worker_writes_json_lines_without_its_token_even_at_debug(synced: Engine, database_url: str) -> None:
    """The whole path: `desk worker --once` off a terminal, slack_sdk logging its requests at DEBUG."""
    with unit_of_work(synced) as session:
        session.add(OutboxRow(idempotency_key="alert:test", kind="alert", target="triage", created_at=MONDAY,
                              available_at=MONDAY, payload={"failed_key": "esc:1", "failed_kind": "escalation",
                                                            "target": "U0DUTYLEAD", "error": "channel_not_found"}))
    with SlackStandIn() as slack:
        env = {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS),
               "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "DESK_SLACK_API_URL": slack.api_url,
               "DESK_LOG_LEVEL": "DEBUG"}
        env.pop("DESK_LOG_FORMAT", None)
        done = subprocess.run([sys.executable, "-m", "desk", "worker", "--once"], env=env, capture_output=True,
                              text=True, timeout=60, cwd=Path(__file__).parents[2])
        assert done.returncode == 0, done.stderr
        posts = slack.calls_to("chat.postMessage")
        assert posts and {c.token for c in posts} == {BOT_TOKEN}  # it was really used
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(r["logger"].startswith("slack_sdk") for r in records)  # the client's debug lines are there
    assert BOT_TOKEN not in done.stderr and SECRET not in done.stderr and "xoxb-" not in done.stderr
