"""Running desk's web process under gunicorn (threads), or the Bolt app over Socket Mode.

Never Bolt's development server: gunicorn's `gthread` workers give real concurrency, timeouts and a
graceful shutdown.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from desk.wiring import Wiring

log = logging.getLogger("desk.server")


class _Gunicorn(BaseApplication):
    def __init__(self, wiring: Wiring, options: dict[str, Any]):
        self.wiring = wiring
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        _dump_stacks_on_sigusr1()
        app = self.wiring.wsgi_app()
        if self.wiring.runs_worker_in_web:
            start_background_worker(self.wiring)
        return app


def _dump_stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints every thread's stack to stderr: how an operator sees what is stuck."""
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)


def serve_http(wiring: Wiring, *, host: str, port: int, workers: int, threads: int) -> None:
    wiring.wsgi_app()  # build once up front: a missing setting fails here, loudly, before forking
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
    }
    _Gunicorn(wiring, options).run()


def serve_socket_mode(wiring: Wiring) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = wiring.settings.slack_app_token
    assert token is not None
    app = wiring.slack_app()
    if wiring.runs_worker_in_web:
        start_background_worker(wiring)
    SocketModeHandler(app, token.get_secret_value()).start()


def start_background_worker(wiring: Wiring):
    """On SQLite the web process is the whole system: it runs the worker's jobs in a background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    wiring.worker().schedule(scheduler)
    scheduler.start()
    log.info("worker jobs running in this process (SQLite: one process does everything)")
    return scheduler
