"""The worker's jobs and their schedule.

- **sweep** turns due SLA steps into outbox rows. It re-arms itself for the earliest next due instant,
  capped at `sweep_cap` seconds, so a warning lands within seconds of its instant while the database is
  asked only when something can be due.
- **dispatch** posts what the outbox holds.
- **digests** queues each council's weekly digest once its scheduled instant has passed.
- **close** closes resolved tickets whose `close_after_days` have run out (DESIGN.md, the closing contract)
  and tells their councils through the outbox; it runs every minute, so a ticket closes within a minute
  of the instant the contract gives.
- **retention** redacts the words on tickets closed longer than their council's period, daily.
- **inbox** works again the Slack requests stored before their ack and not finished within their lease
  (the web process died after the ack): on start, then every half lease (1-15 s). The work itself is
  handed in (`rework`, the Bolt app's listeners: this layer knows no Slack).
- **inbox_prune** forgets inbox rows done more than `INBOX_KEEP` ago, daily.

Every job re-reads state and writes under unique keys, so running one twice, late, or on two workers at
once does no harm. `misfire_grace_time=None` with `coalesce=True`: after downtime a missed run happens
once, late, instead of being dropped (APScheduler's default grace is one second). `stop()` (SIGTERM) lets
each running job finish what it holds and starts nothing new.

When the database is unreachable a job fails and runs again on its schedule: the first failure of each
job is one log line naming the database, the rest are quiet, and the job's first success says how long
it was away (no traceback per attempt). Nothing needs restarting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from desk.clock import Clock
from desk.db.engine import unit_of_work
from desk.db.outage import describe, unreachable
from desk.services import closing, escalation, inbox
from desk.services.dispatch import CHANNEL_PACE_SECONDS, LEASE, Dispatcher, DispatchReport
from desk.services.ports import Notifier
from desk.services.retention import RetentionReport, apply_retention
from desk.turns import JOB_PATIENCE, WINDOW_PATIENCE, AcksFirst

log = logging.getLogger("desk.worker")

MIN_SWEEP_DELAY = timedelta(milliseconds=200)
RETENTION_EVERY = timedelta(days=1)
CLOSE_EVERY = timedelta(minutes=1)
INBOX_KEEP = timedelta(days=7)  # done inbox rows kept this long (what arrived, for an operator), then pruned


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[], object]
    every: timedelta


class Worker:
    def __init__(self, engine: Engine, clock: Clock, notifier: Notifier, *, sweep_cap: float = 5.0,
                 dispatch_every: float = 2.0, digests_every: float = 300.0,
                 enqueue_digests: Callable | None = None, channel_pace: float = CHANNEL_PACE_SECONDS,
                 lease: timedelta = LEASE, sweep_batch: int = escalation.BATCH,
                 close_every: timedelta = CLOSE_EVERY, close_batch: int = closing.BATCH,
                 rework: Callable[[], int] | None = None, inbox_lease: timedelta = timedelta(seconds=60),
                 turns: AcksFirst | None = None):
        self.engine, self.clock = engine, clock
        self.turns = turns  # in the web process: each run waits while Slack's requests are answered
        self.rework = rework  # works again what the inbox holds past its lease; None: nothing to rework with
        self.inbox_every = min(max(inbox_lease / 2, timedelta(seconds=1)), timedelta(seconds=15))
        self.sweep_batch = sweep_batch  # clock rows per sweep transaction: bounds its memory and lock time
        self.stopping = threading.Event()
        self._running = 0  # jobs running now (`stop` waits for them)
        self._ran = threading.Condition()
        self.dispatcher = Dispatcher(engine, notifier, clock.now, pace=channel_pace, stopping=self.stopping,
                                     lease=lease,
                                     between=None if turns is None else partial(turns.wait_turn, WINDOW_PATIENCE))
        self.sweep_cap = timedelta(seconds=sweep_cap)
        self.dispatch_every = timedelta(seconds=dispatch_every)
        self.digests_every = timedelta(seconds=digests_every)
        self.enqueue_digests = enqueue_digests
        self.close_every, self.close_batch = close_every, close_batch
        self.scheduler: BaseScheduler | None = None
        self._unreachable_since: dict[str, float] = {}  # job id -> when it first failed on the database

    def jobs(self) -> list[Job]:
        """The whole schedule, in one place."""
        return [
            Job("sweep", self.sweep, self.sweep_cap),
            Job("dispatch", self.dispatch, self.dispatch_every),
            Job("digests", self.digests, self.digests_every),
            Job("close", self.close, self.close_every),
            Job("retention", self.retention, RETENTION_EVERY),
            Job("inbox", self.inbox, self.inbox_every),
            Job("inbox_prune", self.prune_inbox, RETENTION_EVERY),
        ]

    # -- the jobs ----------------------------------------------------------------------------------------

    def sweep(self) -> escalation.SweepReport:
        total = escalation.SweepReport()
        while True:
            with unit_of_work(self.engine) as session:
                report = escalation.sweep(session, now=self.clock.now(), batch=self.sweep_batch)
            total.tickets += report.tickets
            total.sent += report.sent
            total.superseded += report.superseded
            total.skipped += report.skipped
            # A short batch means nothing else was due. Count rows, not tickets: a ticket due on both
            # metrics fills two rows of a batch.
            if report.claimed < self.sweep_batch or report.tickets == 0:
                break
            if self.stopping.is_set():
                break  # the batch in hand is done and committed; the rest waits for the next worker
        if total.tickets:
            log.info("sweep: %s ticket(s), %s notification(s), %s superseded", total.tickets, total.sent,
                     total.superseded)
        self._rearm_sweep()
        return total

    def dispatch(self) -> DispatchReport:
        report = self.dispatcher.drain(max_rounds=10)
        if report.sent or report.failed:
            log.info("dispatch: %s sent, %s retried, %s failed, %s cancelled", report.sent, report.retried,
                     report.failed, report.cancelled)
        return report

    def digests(self) -> int:
        if self.enqueue_digests is None or self.stopping.is_set():
            return 0
        with unit_of_work(self.engine) as session:
            queued = self.enqueue_digests(session, now=self.clock.now())
        return len(queued)

    def close(self) -> closing.CloseReport:
        """Close what is due, batch by batch, each its own transaction (a long backlog after downtime
        neither holds locks for long nor stops at the first batch)."""
        total = closing.CloseReport()
        while not self.stopping.is_set():
            with unit_of_work(self.engine) as session:
                report = closing.close_due(session, now=self.clock.now(), batch=self.close_batch)
            total.closed += report.closed
            total.skipped += report.skipped
            total.scheduled += report.scheduled
            if report.claimed < self.close_batch or not report.closed:
                break
        if total.closed or total.skipped:
            log.info("close: %s ticket(s) closed, %s left for the next pass", len(total.closed), len(total.skipped))
        return total

    def retention(self) -> RetentionReport:
        """Redact the words on tickets closed for longer than their council's retention period.

        Daily is enough: periods are counted in days, and a ticket redacted a day late is still on time
        for any policy worth having. Idempotent, and each council is its own transaction."""
        report = apply_retention(self.engine, now=self.clock.now())
        if report.tickets or not report.ok:
            log.info("retention: %s ticket(s) redacted, %s council(s) failed", report.tickets,
                     sum(1 for c in report.councils if c.error))
        return report

    def inbox(self) -> int:
        """Rework what the inbox holds past its lease; how many rows were claimed."""
        if self.rework is None or self.stopping.is_set():
            return 0
        with unit_of_work(self.engine) as session:
            if not inbox.waiting(session, now=self.clock.now()):
                return 0  # the usual case: nothing crashed, nothing to build or claim
        return self.rework()

    def prune_inbox(self) -> int:
        with unit_of_work(self.engine) as session:
            pruned = inbox.prune(session, before=self.clock.now() - INBOX_KEEP)
        if pruned:
            log.info("inbox: %s done row(s) older than %s days pruned", pruned, INBOX_KEEP.days)
        return pruned

    def run_once(self) -> dict:
        """One pass of everything, for `desk worker --once` (cron-style hosting) and tests."""
        reworked = self.inbox()
        swept = self.sweep()
        closed = self.close()
        queued = self.digests()
        sent = self.dispatcher.drain()
        return {"swept_tickets": swept.tickets, "escalations": swept.sent, "superseded": swept.superseded,
                "closed": len(closed.closed), "digests_queued": queued, "sent": sent.sent,
                "retried": sent.retried, "failed": sent.failed, "cancelled": sent.cancelled, "reworked": reworked}

    def stop(self, *, wait: bool = True) -> None:
        """A graceful stop: jobs finish what they hold (a sweep batch, the notification being sent) and
        start nothing new; with `wait`, return once the scheduler's running jobs are done.

        Not APScheduler's `shutdown(wait=True)`: it holds its job stores' lock while it waits, and a running
        sweep re-arms itself (`modify_job`) through that lock, so a stop meeting that moment never returned
        (`desk worker` ignored SIGTERM; a web worker was killed at gunicorn's graceful timeout). The
        scheduler is stopped without waiting, then the jobs are waited for here."""
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if wait:
            with self._ran:
                self._ran.wait_for(lambda: not self._running)
        log.info("worker stopped")

    # -- scheduling --------------------------------------------------------------------------------------

    def _patient(self, job: Job) -> Callable[[], object]:
        """The job as scheduled: counted while it runs (`stop` waits for it), and a database outage is one
        line when it starts and one when it ends."""
        def run() -> object:
            with self._ran:
                self._running += 1
            try:
                if self.turns is not None:
                    self.turns.wait_turn(JOB_PATIENCE)
                    if self.stopping.is_set():
                        return None
                return self._through_outages(job)
            finally:
                with self._ran:
                    self._running -= 1
                    self._ran.notify_all()

        return run

    def _through_outages(self, job: Job) -> object:
        try:
            result = job.run()
        except Exception as err:
            if not unreachable(err):
                raise
            if job.id not in self._unreachable_since:
                self._unreachable_since[job.id] = time.monotonic()
                log.warning("%s: database unreachable (%s); trying again on schedule", job.id, describe(err))
            return None
        started = self._unreachable_since.pop(job.id, None)
        if started is not None:
            log.info("%s: database reachable again after %.1f s", job.id, time.monotonic() - started)
        return result

    def schedule(self, scheduler: BaseScheduler) -> BaseScheduler:
        for job in self.jobs():
            scheduler.add_job(self._patient(job), IntervalTrigger(seconds=job.every.total_seconds()), id=job.id,
                              name=job.id, misfire_grace_time=None, coalesce=True, max_instances=1,
                              next_run_time=self.clock.now())
        self.scheduler = scheduler
        return scheduler

    def _rearm_sweep(self) -> None:
        """Sleep until the earliest next step (but never longer than the cap)."""
        if self.scheduler is None or self.stopping.is_set():
            return
        with unit_of_work(self.engine) as session:
            next_due = escalation.next_due_at(session)
        now = self.clock.now()
        wake = now + self.sweep_cap if next_due is None else min(max(next_due, now + MIN_SWEEP_DELAY),
                                                                   now + self.sweep_cap)
        try:
            self.scheduler.modify_job("sweep", next_run_time=wake)
        except Exception:  # the scheduler is shutting down: nothing to re-arm
            log.debug("could not re-arm the sweep", exc_info=True)
