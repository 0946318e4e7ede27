"""The sandbox assembled: the real desk (Bolt app behind `DeskWsgi`, the worker's jobs, its own database)
wired to the local Slack stand-in, with the console in front, on one port.

Like `desk.wiring`, this is the one place that knows both sides: desk is built by `Wiring` from settings
that point it at the stand-in (`DESK_SLACK_API_URL`) with the sandbox's movable clock; the console knows
desk only as a URL to sign requests to, plus two hooks handed over here (wait for desk's work after an
ack; make the worker do what is due).
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import yaml

from desk.config import Settings
from desk.db import migrate, sandbox_mark
from desk.db.engine import unit_of_work
from desk.sandbox.console_actions import Console
from desk.sandbox.console_http import ConsoleWsgi
from desk.sandbox.movable_clock import MovableClock
from desk.sandbox.people import Population, from_registry, install
from desk.sandbox.slack_api import SlackStandIn
from desk.scheduling.worker import Worker
from desk.services import playbooks
from desk.services.playbook_files import load_directory
from desk.wiring import Wiring

log = logging.getLogger("desk.sandbox")

DEFAULT_DATABASE = "sqlite:///sandbox.db"
MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"
WORKER_EVERY = 2.0  # seconds between the worker's passes in real time
SETTLE_SECONDS = 15.0


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def shortcuts(manifest: Path = MANIFEST) -> list[dict]:
    """The shortcuts desk's Slack app declares (Slack reads them from the app's manifest, so do we)."""
    if not manifest.is_file():
        return []
    document = yaml.safe_load(manifest.read_text()) or {}
    return [{"name": s.get("name"), "type": s.get("type"), "callback_id": s.get("callback_id")}
            for s in (document.get("features") or {}).get("shortcuts") or []]


@dataclass
class Sandbox:
    """A running sandbox; `stop()` ends it cleanly (requests in flight, desk's work, the worker's pass)."""

    url: str
    console: Console
    wiring: Wiring
    stand_in: SlackStandIn
    population: Population
    server: _Server
    worker: Worker
    threads: list[threading.Thread] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    due_lock: threading.Lock = field(default_factory=threading.Lock)

    def run_due(self) -> None:
        """One pass of the worker's jobs at the sandbox's now: inbox, sweep, close, digests, dispatch."""
        with self.due_lock:
            self.worker.run_once()

    def settle(self) -> None:
        if not self.wiring.listener_executor.drain(SETTLE_SECONDS):
            log.warning("desk's work after the ack is still running after %s s", SETTLE_SECONDS)

    def pass_once(self) -> None:
        try:
            self.run_due()
        except Exception:  # one bad pass is logged; the next one tries again
            log.exception("the sandbox's worker pass failed")

    def _worker_loop(self) -> None:
        while not self.stopping.wait(WORKER_EVERY):
            self.pass_once()

    def stop(self) -> None:
        self.stopping.set()
        self.worker.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=10)
        self.wiring.listener_executor.drain(SETTLE_SECONDS)
        self.wiring.listener_executor.shutdown(wait=True, cancel_futures=True)
        self.stand_in.stop()
        self.wiring.engine.dispose()


def start(*, database_url: str = DEFAULT_DATABASE, host: str = "127.0.0.1", port: int = 3000,
          playbooks_dir: Path = Path("playbooks"), log_level: str = "WARNING", catch_up: bool = True) -> Sandbox:
    """Start everything, or raise `ConfigError` (a database that is not the sandbox's, a bad playbook).

    `catch_up`: the worker's first pass runs before the console serves, so what it catches up on at start
    (the last week's digests) is in the channels when a person first looks, not dropped in a moment later.
    `desk sandbox --demo` passes False: its history is made in the past first, and digested as it goes."""
    clock = MovableClock()
    loaded = load_directory(playbooks_dir)  # a broken directory stops us before anything starts
    server = make_server(host, port, lambda environ, start_response: [], server_class=_Server,
                         handler_class=_Quiet)
    stand_in: SlackStandIn | None = None
    try:
        bound_port = server.server_address[1]
        population = from_registry(playbooks_dir / "councils.yaml")
        stand_in = SlackStandIn(team_id=population.support_team).start()
        install(population, stand_in.workspace)
        secret = secrets.token_hex(16)
        local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        settings = Settings.from_environ({
            "SLACK_BOT_TOKEN": "xoxb-sandbox-" + secrets.token_hex(8), "SLACK_SIGNING_SECRET": secret,
            "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": stand_in.api_url,
            "DESK_PLAYBOOKS_DIR": str(playbooks_dir), "DESK_PUBLIC_URL": f"http://{local}:{bound_port}",
            "DESK_LOG_LEVEL": log_level,
        })
        wiring = Wiring(settings, clock=clock)
        sandbox_mark.claim(wiring.engine, url=settings.database_url_safe, at=clock.now())
        migrate.upgrade(wiring.engine)
        with unit_of_work(wiring.engine) as session:
            playbooks.sync(session, loaded, at=clock.now())
        desk_app = wiring.wsgi_app()
        worker = wiring.worker(channel_pace=0.0)
    except BaseException:
        server.server_close()
        if stand_in is not None:
            stand_in.stop()
        raise
    url = f"http://{local}:{bound_port}"
    holder: dict = {}
    console = Console(stand_in=stand_in, population=population, events_url=f"{url}/slack/events",
                      signing_secret=secret, clock=clock, settle=lambda: holder["sandbox"].settle(),
                      run_due=lambda: holder["sandbox"].run_due(), shortcuts=shortcuts())
    server.set_app(ConsoleWsgi(console, desk_app))
    sandbox = Sandbox(url, console, wiring, stand_in, population, server, worker)
    holder["sandbox"] = sandbox
    if catch_up:
        sandbox.pass_once()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http",
                               daemon=True)
    background = threading.Thread(target=sandbox._worker_loop, name="sandbox-worker", daemon=True)
    sandbox.threads += [serving, background]
    serving.start()
    background.start()
    return sandbox
