"""The one module that knows every layer: builds settings, the engine, the Slack app and the web app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text

from desk import __version__
from desk.clock import Clock, system_clock
from desk.config import Settings
from desk.db import migrate
from desk.db.engine import make_engine, read_only
from desk.db.outage import Reachability, describe
from desk.observability import metrics
from desk.services.report_links import LinkMaker, derive_secret

if TYPE_CHECKING:  # the web front (Bolt) is imported where it is built, not by every command
    from desk.slack.web import Health

log = logging.getLogger("desk.health")


@dataclass
class Wiring:
    settings: Settings
    clock: Clock = system_clock

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Wiring:
        return cls(Settings.from_environ(environ))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    def health(self) -> tuple[bool, dict]:
        """Database reachable and migrations current: what `GET /healthz` reports. The driver's words (host,
        port, user on PostgreSQL) go to the log only: the answer says "unreachable" and nothing more."""
        try:
            with read_only(self.engine) as session:
                session.connection().execute(text("SELECT 1"))
            current = migrate.is_current(self.engine)
        except Exception as err:  # any failure to reach the database is "unhealthy"; why, in the log
            log.warning("health check: database unreachable: %s", describe(err))
            return False, {"ok": False, "version": __version__, "database": "unreachable"}
        return current, {"ok": current, "version": __version__, "database": "ok",
                         "migrations": "current" if current else "behind: run desk db upgrade"}

    @cached_property
    def reachability(self) -> Reachability:
        """What this process last learned about reaching its database (the web front reads it per request)."""
        return Reachability(self.engine)

    @cached_property
    def metrics(self) -> CollectorRegistry:
        """What `/metrics` exposes for this wiring: the process's counters, and the backlog read at scrape time
        (from the database at most once every few seconds of this wiring's clock)."""
        backlog = metrics.BacklogCollector(self.backlog, every=metrics.BACKLOG_EVERY_SECONDS,
                                           seconds=lambda: self.clock.now().timestamp())
        return metrics.registry(backlog)

    def backlog(self) -> metrics.Backlog:
        """What the worker has yet to catch up with, read in one short read-only transaction."""
        from desk.services import dispatch, escalation, inbox

        now = self.clock.now()
        with read_only(self.engine) as session:
            depth, age = dispatch.backlog(session, now=now)
            return metrics.Backlog(outbox_depth=depth, outbox_oldest_age_seconds=age,
                                   sla_steps_due=escalation.steps_due(session, now=now),
                                   inbox_unfinished=inbox.unfinished(session))

    @cached_property
    def acks_first(self):
        """The web process's gate: work that can wait lets Slack's requests be answered first."""
        from desk.turns import AcksFirst

        return AcksFirst()

    @cached_property
    def listener_executor(self):
        """Where Slack work runs after each ack, in its turn; `drain()` it to finish in-flight work."""
        from desk.slack.executor import ListenerExecutor

        return ListenerExecutor(turns=self.acks_first)

    @cached_property
    def receipts(self):
        """The durable receipt: Slack requests stored before their ack, reworked after a crash."""
        from desk.slack.receipt import Receipts

        return Receipts(self.engine, self.clock, lease=timedelta(seconds=self.settings.inbox_lease_seconds))

    def slack_app(self):
        from desk.slack.app import build_app
        from desk.slack.deps import Deps

        deps = Deps(self.engine, self.clock, report_links=self.report_links(), receipts=self.receipts)
        return build_app(self.settings, deps, self.listener_executor)

    def rework_inbox(self) -> int:
        """The worker's `inbox` job: work again what a dead process stored and acked but did not finish.
        A standalone worker (PostgreSQL) builds the Bolt app for it, once: the same listeners do the work."""
        if self.receipts.app is None:
            self.slack_app()
        return self.receipts.rework()

    def wsgi_app(self, *, socket_mode: bool = False, app=None, connection: Health | None = None):
        """The web process's one routing table. Over HTTP, Slack's requests come in at /slack/events; in Socket
        Mode (`app`: the Bolt app the Socket Mode connection dispatches to) that path answers 404 and the
        rest (/healthz, /metrics, /api/v1/…, report pages) is served just the same; `connection` (the
        Socket Mode connection's state) is then part of /healthz."""
        from desk.errors import ConfigError
        from desk.slack.web import DeskWsgi

        secret = self.settings.slack_signing_secret
        app = app or self.slack_app()  # refuses missing credentials, naming the variable
        if secret is None and not socket_mode:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: desk cannot verify requests from Slack over HTTP")
        signing = None if socket_mode or secret is None else secret.get_secret_value()
        health = self.health if connection is None else _with_connection(self.health, connection)
        return DeskWsgi(app, signing, health, self.metrics, pages=self.web_pages(),
                        api=self.council_api(), database=self.reachability.problem,
                        notices=self.listener_executor, ops_port=self.settings.ops_port,
                        body_deadline_seconds=self.settings.request_timeout_seconds,
                        front=None if signing is None else self.front(app), turns=self.acks_first)

    def front(self, app):
        """Acks given in front of `app` (desk.slack.front), when it works after its acks as desk does."""
        from desk.slack.after_ack import AfterTheAck
        from desk.slack.front import Front
        from desk.slack.ids import SLASH_COMMAND

        if not isinstance(app.listener_runner, AfterTheAck):  # Bolt's own mode (bench/bench_ingress.py)
            return None
        return Front(app, self.listener_executor, commands={SLASH_COMMAND},
                     receipts=self.receipts if self.receipts.app is app else None)

    def council_api(self):
        """The council API (`/api/v1/...`): read-only, each council's bearer tokens, this wiring's clock."""
        from desk.api.app import CouncilApi

        return CouncilApi(self.engine, self.clock)

    def report_links(self) -> LinkMaker | None:
        """Signs report links: keyed by DESK_LINK_SECRET when set, else derived from SLACK_SIGNING_SECRET."""
        base = self.settings.link_secret or self.settings.slack_signing_secret
        return LinkMaker(self.settings.public_url, derive_secret(base.get_secret_value())) if base else None

    def web_pages(self) -> dict[str, Callable[[dict, Callable], Iterable[bytes]]]:
        """Pages the web process serves beside Slack's endpoint, each checking its own credential."""
        from desk.slack.report_page import REPORT_PATH, ReportPage

        links = self.report_links()
        return {REPORT_PATH: ReportPage(self.engine, self.clock, links.secret)} if links else {}

    def notifier(self):
        from desk.slack import problem_posts
        from desk.slack.app import web_client
        from desk.slack.deps import Deps
        from desk.slack.digests import DIGEST_RENDERERS
        from desk.slack.notifier import SlackNotifier

        renderers = {**DIGEST_RENDERERS, problem_posts.KIND: problem_posts.render}
        return SlackNotifier(web_client(self.settings), Deps(self.engine, self.clock), renderers)

    def worker(self, **options):
        from desk.scheduling.worker import Worker
        from desk.services.digests import enqueue_due

        options.setdefault("enqueue_digests", enqueue_due)
        options.setdefault("lease", timedelta(seconds=self.settings.outbox_lease_seconds))
        options.setdefault("rework", self.rework_inbox)
        options.setdefault("inbox_lease", timedelta(seconds=self.settings.inbox_lease_seconds))
        return Worker(self.engine, self.clock, self.notifier(), **options)

    @property
    def runs_worker_in_web(self) -> bool:
        """On SQLite, one process does everything: `desk serve` runs the worker's jobs too."""
        return self.engine.dialect.name == "sqlite"


def _with_connection(health: Health, connection: Health) -> Health:
    """/healthz with the Slack connection's state beside the database's: healthy when both are."""
    def both() -> tuple[bool, dict]:
        database_ok, detail = health()
        connected, more = connection()
        return database_ok and connected, {**detail, **more, "ok": database_ok and connected}

    return both
