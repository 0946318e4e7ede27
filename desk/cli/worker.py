"""`desk worker`: the sweeper, the dispatcher and the digest schedule."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
from apscheduler.schedulers.blocking import BlockingScheduler

from desk.cli.output import JsonOption, print_json, require_schema
from desk.db.outage import PATIENCE_SECONDS
from desk.observability.logs import configure_logging
from desk.wiring import Wiring

log = logging.getLogger("desk.worker")


def worker(
    once: Annotated[bool, typer.Option("--once", help="One pass of every job, then exit (cron-style).")] = False,
    as_json: JsonOption = False,
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve GET /metrics (Prometheus) on this port (default: $DESK_METRICS_PORT; none if unset).")] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port.")] = "0.0.0.0",
) -> None:
    """Escalate due SLA steps, post the outbox, queue weekly digests. Safe to run twice on PostgreSQL.

    SIGTERM or SIGINT: the job in hand finishes (a sweep batch, the notification being posted), nothing new
    starts, and the process exits 0.
    """
    wiring = Wiring.from_environ()
    settings = wiring.settings
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=settings.secret_values)
    require_schema(wiring, patience=0 if once else PATIENCE_SECONDS)  # a database outage: wait, don't crash
    work = wiring.worker()
    if once:
        result = work.run_once()
        if as_json:
            print_json(result)
        else:
            print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))
        return
    port = metrics_port or settings.metrics_port
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=metrics_host, registry=wiring.metrics)
        log.info("metrics on http://%s:%s/metrics", metrics_host, port)
    scheduler = BlockingScheduler(timezone="UTC")
    work.schedule(scheduler)

    def stop(signum, _frame) -> None:
        if work.stopping.is_set():
            return  # already stopping: a second signal does not cut the current job short
        log.info("signal %s: finishing the current job, then stopping", signum)
        work.stop(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker running: %s", ", ".join(job.id for job in work.jobs()))
    scheduler.start()
