"""`desk worker`: the sweeper, the dispatcher and the digest schedule."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer
from apscheduler.schedulers.blocking import BlockingScheduler

from desk.cli.output import JsonOption, print_json, require_schema
from desk.wiring import Wiring


def worker(
    once: Annotated[bool, typer.Option("--once", help="One pass of every job, then exit (cron-style).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Escalate due SLA steps, post the outbox, queue weekly digests. Safe to run twice on PostgreSQL."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    wiring = Wiring.from_environ()
    require_schema(wiring)
    work = wiring.worker()
    if once:
        result = work.run_once()
        if as_json:
            print_json(result)
        else:
            print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))
        return
    scheduler = BlockingScheduler(timezone="UTC")
    work.schedule(scheduler)

    def stop(signum, _frame) -> None:
        logging.getLogger("desk.worker").info("signal %s: finishing the current job, then stopping", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
