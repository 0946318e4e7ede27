"""The real desk web app (Bolt behind desk's WSGI front) on a local port, the Slack stand-in, a driver.

Nothing of desk's is replaced: the app is built by `Wiring` from settings pointing at the stand-in, with
a clock the test moves by hand (time is an argument in desk, so no patching is needed).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import Engine

from desk.config import Settings
from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from desk.sandbox.socket_driver import SocketModeDriver
from desk.slack.socket_mode import SocketModeRunner
from desk.wiring import Wiring

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_TOKEN = "xapp-1-A0DESKAPP1-1-stand-in"
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a working Monday, GMT

# people, by organisation (tests/fixtures/playbooks/councils.yaml)
CHERWELL, FIFE, SUPPORT, OUTSIDE = "T0CHERWELL", "T0FIFE0001", "T0SUPPORT", "T0OUTSIDER"
CHERWELL_CHANNEL, FIFE_CHANNEL, TRIAGE = "C0CHERWELL", "C0FIFE0001", "C0TRIAGE"
ALICE = "U0ALICE001"  # Cherwell's income team
BRUCE = "U0BRUCE001"  # Fife
ENGINEER = "U0ENGINEER1"
MALLORY = "U0MALLORY1"  # an organisation desk does not serve
USERS = {
    ALICE: CHERWELL, BRUCE: FIFE, ENGINEER: SUPPORT, "U0ENGINEER2": SUPPORT, MALLORY: OUTSIDE,
}


class HandClock:
    """A clock the test moves: desk takes time as an argument, so this is all it needs."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@dataclass
class Desk:
    driver: SlackDriver  # a SocketModeDriver when the app runs in Socket Mode
    slack: SlackStandIn
    engine: Engine
    clock: HandClock
    wiring: Wiring
    runner: SocketModeRunner | None = None  # in Socket Mode: what holds the connection
    app: Any = None  # over HTTP: the WSGI app the driver's server serves (desk.slack.web.DeskWsgi)

    def settle(self, timeout: float = 10) -> None:
        """Wait for the work started after each ack (lazy listeners) to finish."""
        assert self.wiring.listener_executor.drain(timeout), f"listener work did not finish in {timeout} s"


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.users = {user: {"id": user, "team_id": team, "name": user.lower(), "real_name": user,
                              "tz": "Europe/London"} for user, team in USERS.items()}
        yield slack
        assert slack.violations == []


@pytest.fixture
def desk(synced: Engine, stand_in: SlackStandIn, database_url: str) -> Iterator[Desk]:
    settings = Settings.from_environ({
        "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
        "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": stand_in.api_url,
    })
    clock = HandClock(MONDAY)
    wiring = Wiring(settings, clock=clock)
    wiring.__dict__["engine"] = synced  # the test's migrated, synced database
    app = wiring.wsgi_app()  # verifies the token with auth.test, as at start-up
    assert [c.method for c in stand_in.calls] == ["auth.test"]
    stand_in.reset()
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    try:
        yield Desk(SlackDriver(url, SECRET, hooks_url=stand_in.hooks_url), stand_in, synced, clock, wiring, app=app)
    finally:
        server.shutdown()
        wiring.listener_executor.shutdown(wait=True)


class DoorFirst:
    """A WSGI app that offers each request to `app.front_door` first, as desk's gunicorn worker does from
    its loop with a request read whole (desk/http_worker.py), and serves it through `app` when the door
    says None: the door's answers, in a test server."""

    def __init__(self, app: Any):
        self.app = app
        self.answered = 0  # requests the door answered

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {name[5:].replace("_", "-").lower(): value for name, value in environ.items()
                   if name.startswith("HTTP_")}
        headers.update({"content-type": environ.get("CONTENT_TYPE", ""), "content-length": str(len(body))})
        answer = self.app.front_door(environ["REQUEST_METHOD"], environ["PATH_INFO"], headers, body, None)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        self.answered += 1
        status, fields, content = answer
        start_response(status, fields)
        return [content]


@contextmanager
def door_first(desk: Desk) -> Iterator[tuple[SlackDriver, DoorFirst]]:
    """A second server for `desk`'s app, door first (`DoorFirst`), and a driver for it."""
    served = DoorFirst(desk.app)
    server = make_server("127.0.0.1", 0, served, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
        yield SlackDriver(url, SECRET, hooks_url=desk.slack.hooks_url), served
    finally:
        server.shutdown()


@pytest.fixture
def socket_desk(synced: Engine, stand_in: SlackStandIn, database_url: str) -> Iterator[Desk]:
    """The same app in Socket Mode: no HTTP at all, a `SocketModeRunner` connected to the stand-in's
    WebSocket, driven by `SocketModeDriver` (the same builders and sending methods as the HTTP driver)."""
    socket = stand_in.enable_socket_mode()
    settings = Settings.from_environ({
        "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_APP_TOKEN": APP_TOKEN,
        "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": stand_in.api_url,
    })
    clock = HandClock(MONDAY)
    wiring = Wiring(settings, clock=clock)
    wiring.__dict__["engine"] = synced
    # Checks every second (production: 2 s), so a dropped socket is noticed soon; slack_sdk's client gives up
    # on a link after 4 unanswered checks, and under a loaded CI a shorter interval dropped healthy links.
    runner = SocketModeRunner(wiring.slack_app(), APP_TOKEN, ping_interval=1.0,
                              database=wiring.reachability.problem, notices=wiring.listener_executor)
    runner.start()
    socket.wait_connections(1)
    assert [c.method for c in stand_in.calls] == ["auth.test", "apps.connections.open"]
    stand_in.reset()
    try:
        yield Desk(SocketModeDriver(socket, hooks_url=stand_in.hooks_url), stand_in, synced, clock, wiring, runner)
        assert socket.violations == []
    finally:
        runner.stop(timeout=5)
        wiring.listener_executor.shutdown(wait=True)


@pytest.fixture(params=["http", "socket_mode"])
def either_desk(request: pytest.FixtureRequest) -> Desk:
    """The app over HTTP, then over Socket Mode: a scenario using it runs, and must pass, in both."""
    return request.getfixturevalue("desk" if request.param == "http" else "socket_desk")
