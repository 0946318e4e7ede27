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

**Memory.** `desk serve --http` builds the app once in its own process to check everything, then replaces
that process (`exec`, same pid) with `desk.web_master`: gunicorn's master there imports gunicorn and desk's
log handler, not the app, and each worker builds the app when it boots. A master that had built the app
would carry it for the life of the process, and its forked worker would count it again (issue 16:
bench/bench_memory.py). `desk serve` in Socket Mode does the same; its SQLite lock file stays open across
the exec.

**Socket Mode** (`serve_socket_mode`) uses the same gunicorn front, one worker, on `$PORT` for everything
that is not Slack's (`/healthz`, `/metrics`, the council API, report pages: `Wiring.wsgi_app`'s one routing
table), and that worker also holds the Socket Mode connection (`desk.slack.socket_mode.SocketModeRunner`).
On SIGTERM the connection takes no new envelope and acks those in hand before the same draining.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from desk.errors import ConfigError
from desk.http_worker import worker_class

if TYPE_CHECKING:  # the lean master (`desk.web_master`) imports none of these: its worker builds the wiring
    from desk.scheduling.worker import Worker
    from desk.wiring import Wiring

log = logging.getLogger("desk.server")

GRACEFUL_TIMEOUT = 20  # seconds gunicorn gives a worker to finish after SIGTERM before killing it
DRAIN_MARGIN = 2  # of which this much is kept back: exiting cleanly must fit in too


class _Gunicorn(BaseApplication):
    """`wiring` None (the lean master): each worker builds its own from the environment when it loads."""

    def __init__(self, wiring: Wiring | None, options: dict[str, Any]):
        self.wiring: Wiring = wiring  # type: ignore[assignment]  (set in load() when None)
        self.options = {**options, "logger_class": _Logger, "worker_exit": self._worker_exit}
        self.background: Worker | None = None  # the worker's jobs, when they run in this process
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        _dump_stacks_on_sigusr1()
        self._build_wiring()
        app = self.wiring.wsgi_app()
        if self.wiring.runs_worker_in_web:
            self.background = start_background_worker(self.wiring)
        freeze_boot_heap()
        return app

    def _build_wiring(self) -> None:
        """Under the lean master, the worker's own wiring, from the environment checked before the handover."""
        if self.wiring is None:
            from desk.wiring import Wiring

            self.wiring = Wiring.from_environ()

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


def serve_http(wiring: Wiring, *, host: str, port: int, workers: int, threads: int,
               lean_master: bool = False) -> None:
    """With `lean_master` (`desk serve --http`), once the app has been built here (every setting checked, the
    bot token tried) this process becomes `desk.web_master` (same pid, a fresh interpreter): gunicorn's
    master then holds gunicorn and desk's log handler only, not the whole app it would otherwise carry, and
    share with its workers, for the life of the process. Without it (tests, bench/servers.py's variants)
    gunicorn runs here, on `wiring` itself."""
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
    if lean_master:
        _become_lean_master(wiring, {key: value for key, value in options.items() if key != "worker_class"})
    _Gunicorn(wiring, options).run()


def _become_lean_master(wiring: Wiring, options: dict[str, Any], *, socket_mode: bool = False) -> None:
    """Replace this process's image with `desk.web_master` (the pid, environment, open standard streams and
    the Socket Mode lock stay; signals reach the same process). Handed over: gunicorn's options and the log
    settings in the arguments; the secrets the log redactor hides through a pipe, never in the arguments."""
    settings = wiring.settings
    wiring.engine.dispose()
    for handle in _LOCKS:  # held by the open file: kept open across the exec, the lock stays this process's
        os.set_inheritable(handle.fileno(), True)
    read, write = os.pipe()
    os.write(write, json.dumps(settings.secret_values).encode())  # a few hundred bytes: the pipe holds them
    os.close(write)
    os.set_inheritable(read, True)
    handover = {"options": options, "log_format": settings.log_format, "log_level": settings.log_level,
                "request_timeout": settings.request_timeout_seconds, "secrets_fd": read, "socket_mode": socket_mode}
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execv(sys.executable, [sys.executable, "-m", "desk.web_master", json.dumps(handover)])


def run_lean_master(options: dict[str, Any], *, request_timeout: float, socket_mode: bool = False) -> None:
    """Gunicorn's master without desk's app: each worker builds the wiring when it boots (and fails to boot,
    loudly, on what `serve_http` or `serve_socket_mode` already checked before the handover)."""
    server = _SocketModeGunicorn if socket_mode else _Gunicorn
    server(None, {**options, "worker_class": worker_class(request_timeout=request_timeout)}).run()


def freeze_boot_heap() -> None:
    """Once the worker has built what it serves with: collect, then move everything alive into the
    collector's permanent generation (`gc.freeze`).

    What boot builds (modules, the app, SQLAlchemy's tables and compiled statements) lives as long as the
    process. Left in the oldest generation, each full collection walked all of it again, holding the
    interpreter: 70-98 ms every 5-6 s under a burst, stalls that set the p99 of acks at concurrency 64.
    Frozen, a full collection walks only what came later: 7-25 ms (bench/README.md, ingress, fifth pass)."""
    gc.collect()
    gc.freeze()


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


def serve_socket_mode(wiring: Wiring, *, host: str, port: int, threads: int, lean_master: bool = False) -> None:
    """Slack's requests over a Socket Mode connection (`desk.slack.socket_mode`), and on `port` everything
    that is not Slack's (/healthz, /metrics, /api/v1/…, report pages), through the same routing table and
    the same gunicorn front as HTTP mode. One gunicorn worker holds the one connection; on SQLite one such
    process per database (a lock file says so when a second starts). `lean_master` as for `serve_http`."""
    settings = wiring.settings
    token = settings.slack_app_token
    if token is None or not token.get_secret_value().startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope "
                          "for Socket Mode")
    if settings.ops_port is not None and settings.ops_port == port:
        raise ConfigError(f"DESK_OPS_PORT ({settings.ops_port}) must differ from the HTTP port ({port})")
    if wiring.engine.dialect.name == "sqlite":
        _one_socket_mode_process(wiring)
    app = wiring.slack_app()  # fails here, loudly, before forking: a missing setting, a bad bot token
    wiring.wsgi_app(socket_mode=True, app=app)
    options = gunicorn_options(host=host, port=port, workers=1, threads=threads)
    if settings.ops_port is not None:
        options["bind"] = [options["bind"], f"{host}:{settings.ops_port}"]
    options["worker_class"] = worker_class(request_timeout=settings.request_timeout_seconds)
    log.info("Socket Mode: serving /healthz, /metrics, the council API and report pages on %s:%s", host, port)
    if lean_master:
        _become_lean_master(wiring, {key: value for key, value in options.items() if key != "worker_class"},
                            socket_mode=True)
    _SocketModeGunicorn(wiring, options).run()


class _SocketModeGunicorn(_Gunicorn):
    """The gunicorn worker also holds the Socket Mode connection: opened when the worker loads, closed
    (after the envelopes being answered are acked) in `worker_exit`, before the work after each ack drains."""

    runner = None

    def load(self):
        from desk.slack.socket_mode import SocketModeRunner

        _dump_stacks_on_sigusr1()
        self._build_wiring()
        app = self.wiring.slack_app()
        token = self.wiring.settings.slack_app_token
        assert token is not None
        self.runner = SocketModeRunner(app, token.get_secret_value(), database=self.wiring.reachability.problem,
                                       notices=self.wiring.listener_executor)
        wsgi = self.wiring.wsgi_app(socket_mode=True, app=app, connection=self.runner.connection)
        if self.wiring.runs_worker_in_web:
            self.background = start_background_worker(self.wiring)
        freeze_boot_heap()
        self.runner.start()
        return wsgi

    def _worker_exit(self, _server, _worker) -> None:
        budget = max(self.cfg.graceful_timeout - DRAIN_MARGIN, 1)
        started = time.monotonic()
        if self.runner is not None:
            log.info("stopping: Socket Mode takes no new envelopes; acking those in hand")
            self.runner.stop(timeout=budget / 2)
        finish_work(self.wiring, self.background, timeout=max(budget - (time.monotonic() - started), 1))


def _one_socket_mode_process(wiring: Wiring) -> None:
    """On SQLite, one Socket Mode process per database: a second one is refused, naming why. The lock is
    held (an open file with `flock`) for as long as this process lives, and released by the kernel when it
    ends, however it ends."""
    import fcntl

    database = wiring.engine.url.database
    if not database or database == ":memory:":
        return
    path = f"{database}.socket-mode.lock"
    handle = open(path, "w")  # noqa: SIM115 (kept open on purpose: the lock lives with the process)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigError(f"another `desk serve` in Socket Mode is already running on this SQLite database "
                          f"({database}; lock {path}). On SQLite run one process per Slack app; for two or more, "
                          "use PostgreSQL (docs/operations.md)") from None
    handle.write(str(os.getpid()))
    handle.flush()
    _LOCKS.append(handle)


_LOCKS: list = []  # the open lock files, kept referenced for the life of the process


def start_background_worker(wiring: Wiring) -> Worker:
    """On SQLite the web process is the whole system: it runs the worker's jobs in a background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    worker = wiring.worker(turns=wiring.acks_first)  # its jobs let Slack's requests be answered first
    worker.schedule(scheduler)
    scheduler.start()
    log.info("worker jobs running in this process (SQLite: one process does everything)")
    return worker
