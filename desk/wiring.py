"""The one module that knows every layer: builds settings, the engine, the Slack app and the web app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine, text

from desk.clock import Clock, system_clock
from desk.config import Settings
from desk.db import migrate
from desk.db.engine import make_engine


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
        """Database reachable and migrations current: what `GET /healthz` reports."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = migrate.is_current(self.engine)
        except Exception as err:  # any failure to reach the database is "unhealthy", with its reason
            return False, {"ok": False, "database": f"unreachable: {type(err).__name__}"}
        return current, {"ok": current, "database": "ok",
                         "migrations": "current" if current else "behind: run desk db upgrade"}

    @cached_property
    def listener_executor(self):
        """Where Slack work runs after each ack; `drain()` it to finish in-flight work."""
        from desk.slack.executor import ListenerExecutor

        return ListenerExecutor()

    def slack_app(self):
        from desk.slack.app import build_app
        from desk.slack.deps import Deps

        return build_app(self.settings, Deps(self.engine, self.clock), self.listener_executor)

    def wsgi_app(self):
        from desk.slack.web import DeskWsgi

        secret = self.settings.slack_signing_secret
        app = self.slack_app()  # refuses missing credentials, naming the variable
        assert secret is not None
        return DeskWsgi(app, secret.get_secret_value(), self.health)

    def notifier(self):
        from desk.slack.app import web_client
        from desk.slack.deps import Deps
        from desk.slack.digests import DIGEST_RENDERERS
        from desk.slack.notifier import SlackNotifier

        return SlackNotifier(web_client(self.settings), Deps(self.engine, self.clock), DIGEST_RENDERERS)

    def worker(self, **options):
        from desk.scheduling.worker import Worker
        from desk.services.digests import enqueue_due

        options.setdefault("enqueue_digests", enqueue_due)
        return Worker(self.engine, self.clock, self.notifier(), **options)

    @property
    def runs_worker_in_web(self) -> bool:
        """On SQLite, one process does everything: `desk serve` runs the worker's jobs too."""
        return self.engine.dialect.name == "sqlite"

