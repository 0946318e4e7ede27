"""Running desk's web process under gunicorn (threads), or the Bolt app over Socket Mode.

Never Bolt's development server: gunicorn's threaded workers give real concurrency, timeouts and a
graceful shutdown. desk's worker class (`desk.http_worker.BufferingWorker`) is gthread plus one stage: a
request is read whole, without a thread, before a thread sees it, so idle or slow clients cannot hold the
threads (they get 408 after DESK_REQUEST_TIMEOUT_SECONDS). With DESK_OPS_PORT set, gunicorn also listens
there, and only there are `/healthz` and `/metrics` served (`DeskWsgi` tells the ports apart).

**SIGTERM** (a deploy, a scale-down) stops desk gracefully. Gunicorn stops accepting connections and
finishes the requests in flight (up to `graceful_timeout`); then, in the worker's `worker_exit` hook,
desk finishes what those requests started after their ack (the listener executor) and, on SQLite, lets
the in-process scheduler finish its current job. Only then does the process exit, with status 0.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from desk.errors import ConfigError
from desk.http_worker import worker_class
from desk.scheduling.worker import Worker
from desk.wiring import Wiring

log = logging.getLogger("desk.server")

GRACEFUL_TIMEOUT = 20  # seconds gunicorn gives a worker to finish after SIGTERM before killing it
DRAIN_MARGIN = 2  # of which this much is kept back: exiting cleanly must fit in too


class _Gunicorn(BaseApplication):
    def __init__(self, wiring: Wiring, options: dict[str, Any]):
        self.wiring = wiring
        self.options = {**options, "logger_class": _Logger, "worker_exit": self._worker_exit}
        self.background: Worker | None = None  # the worker's jobs, when they run in this process
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        _dump_stacks_on_sigusr1()
        app = self.wiring.wsgi_app()
        if self.wiring.runs_worker_in_web:
            self.background = start_background_worker(self.wiring)
        return app

    def _worker_exit(self, _server, _worker) -> None:
        """Gunicorn's hook, in the worker, once its in-flight requests are answered."""
        finish_work(self.wiring, self.background, timeout=max(self.cfg.graceful_timeout - DRAIN_MARGIN, 1))


class _Logger(GunicornLogger):
    """Gunicorn's own lines (boot, worker exits, errors) go through desk's handler: JSON like the rest."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def finish_work(wiring: Wiring, background: Worker | None, *, timeout: float) -> None:
    """Let work in flight finish: the listener executor (work after each ack) and the scheduler's
    current job. New work is not started; what remains is logged."""
    log.info("stopping: finishing work in flight (up to %s s)", timeout)
    executor = wiring.listener_executor
    if background is not None:
        background.stopping.set()  # jobs stop taking new work now, while listeners drain
    drained = executor.drain(timeout)
    if not drained:
        log.warning("stopping: listener work still running after %s s; it is abandoned", timeout)
    executor.shutdown(wait=False, cancel_futures=True)
    if background is not None:
        background.stop(wait=True)  # returns once the scheduler's current job is done
    log.info("stopped")


def _dump_stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints every thread's stack to stderr: how an operator sees what is stuck."""
    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)


def serve_http(wiring: Wiring, *, host: str, port: int, workers: int, threads: int) -> None:
    settings = wiring.settings
    if settings.ops_port is not None and settings.ops_port == port:
        raise ConfigError(f"DESK_OPS_PORT ({settings.ops_port}) must differ from the HTTP port ({port}): "
                          "the operations endpoints are meant to be reachable only from inside")
    wiring.wsgi_app()  # build once up front: a missing setting fails here, loudly, before forking
    options = gunicorn_options(host=host, port=port, workers=workers, threads=threads)
    if settings.ops_port is not None:
        options["bind"] = [options["bind"], f"{host}:{settings.ops_port}"]
    options["worker_class"] = worker_class(request_timeout=settings.request_timeout_seconds)
    log.info("serving Slack on %s:%s%s", host, port,
             f", /healthz and /metrics on {host}:{settings.ops_port}" if settings.ops_port else "")
    _Gunicorn(wiring, options).run()


def gunicorn_options(*, host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Gunicorn's settings for desk's web process (bench/ serves its baselines with the same ones, under
    plain gthread: `serve_http` swaps in desk's buffering worker class and adds the ops port)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "accesslog": None,  # DeskWsgi logs each Slack request itself, with its request id and outcome
        "errorlog": "-",
        "loglevel": "info",
    }


def serve_socket_mode(wiring: Wiring) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = wiring.settings.slack_app_token
    assert token is not None
    app = wiring.slack_app()
    background = start_background_worker(wiring) if wiring.runs_worker_in_web else None
    handler = SocketModeHandler(app, token.get_secret_value())

    def stop(signum, _frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not interrupt the drain
        log.info("signal %s: closing the Socket Mode connection", signum)
        handler.close()
        finish_work(wiring, background, timeout=GRACEFUL_TIMEOUT - DRAIN_MARGIN)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    handler.start()


def start_background_worker(wiring: Wiring) -> Worker:
    """On SQLite the web process is the whole system: it runs the worker's jobs in a background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    worker = wiring.worker()
    worker.schedule(scheduler)
    scheduler.start()
    log.info("worker jobs running in this process (SQLite: one process does everything)")
    return worker
