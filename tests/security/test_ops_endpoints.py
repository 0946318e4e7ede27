"""Issue 12, finding 7: the operations endpoints are internal, say little, and cannot load the database.

Before the fix, `/metrics` and `/healthz` were public on the Slack port, `/healthz` carried the database
driver's error text (host, port and user on PostgreSQL), and every `/metrics` scrape queried the database.
Now, with DESK_OPS_PORT set, `desk serve --http` serves them on that port only (and nothing else there);
`/healthz` says "unreachable" and the log keeps the driver's words; the backlog gauges are read from the
database at most once every few seconds, however often they are scraped.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk import __version__
from desk.config import Settings
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow
from desk.errors import ConfigError
from desk.wiring import Wiring
from tests.processes import eventually
from tests.security.frontdoor import served


def depth(text: bytes) -> float:
    for line in text.decode().splitlines():
        if line.startswith("desk_outbox_depth "):
            return float(line.split()[1])
    raise AssertionError("no desk_outbox_depth in the scrape")


def test_ops_port_serves_healthz_and_metrics_and_the_slack_port_does_not(database_url: str, tmp_path: Path) -> None:
    with served(database_url, tmp_path, ops_port=True) as desk:
        assert desk.ops_port != desk.port
        for path in ("/healthz", "/metrics"):
            assert desk.get(path)[0] == 404, path  # not on the public port
            assert desk.get(path, port=desk.ops_port)[0] == 200, path
        status, body, _ = desk.get("/healthz", port=desk.ops_port)
        assert json.loads(body) == {"ok": True, "version": __version__, "database": "ok", "migrations": "current"}
        # the ops port serves nothing else: not Slack's endpoint, not the API
        assert desk.get("/api/v1/tickets", port=desk.ops_port)[0] == 404
        desk.driver.app_url = f"http://127.0.0.1:{desk.ops_port}/slack/events"
        assert desk.driver.send_event(desk.a_message()).status == 404
        desk.driver.app_url = f"http://127.0.0.1:{desk.port}/slack/events"
        assert desk.driver.send_event(desk.a_message()).status == 200  # Slack's port still works


def test_metrics_read_the_backlog_at_most_every_few_seconds(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    later = datetime.now(UTC) + timedelta(days=1)  # pending, not yet due: the dispatcher leaves them alone
    try:
        with served(database_url, tmp_path) as desk:  # /metrics beside Slack's endpoint: the public case
            seen = []
            for n in range(15):  # a burst well inside one window, the database changing before each scrape
                with unit_of_work(engine) as session:
                    session.add(OutboxRow(idempotency_key=f"security-burst-{n}", kind="alert", target="triage",
                                          created_at=later, available_at=later, payload={}))
                seen.append(depth(desk.get("/metrics", port=desk.ops_port)[1]))
            # one reading, or two if the burst crossed the end of a window: never one per scrape
            assert len(set(seen)) <= 2, seen
            eventually(lambda: depth(desk.get("/metrics", port=desk.ops_port)[1]) == 15,
                       "the scrape catching up with the database", timeout=30)
    finally:
        engine.dispose()


def test_healthz_says_unreachable_and_only_the_log_has_the_drivers_words(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://council_clerk:hunter2@127.0.0.1:{port}/desk"
    wiring = Wiring(Settings.from_environ({"DESK_DATABASE_URL": url}))
    with caplog.at_level(logging.WARNING, logger="desk.health"):
        ok, answer = wiring.health()
    assert (ok, answer) == (False, {"ok": False, "version": __version__, "database": "unreachable"})
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "desk.health")
    assert str(port) in logged and "unreachable" in logged  # the operator still learns why
    assert "hunter2" not in logged


def test_ops_port_must_differ_from_the_slack_port(tmp_path: Path) -> None:
    from desk.server import serve_http

    wiring = Wiring(Settings.from_environ({"DESK_DATABASE_URL": f"sqlite:///{tmp_path}/desk.db",
                                           "DESK_OPS_PORT": "3000"}))
    with pytest.raises(ConfigError, match="DESK_OPS_PORT"):
        serve_http(wiring, host="127.0.0.1", port=3000, workers=1, threads=1)
    with pytest.raises(ConfigError, match="DESK_OPS_PORT"):
        Settings.from_environ({"DESK_OPS_PORT": "http"})
