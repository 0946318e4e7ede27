"""The dispatcher: outbox rows go out through a `Notifier`, each recorded as sent, retried or given up.

A row is claimed with a short lease (`claimed_until`) in its own transaction, posted, then recorded in
another. A crash after claiming leaves a row whose lease runs out: it is claimed again and sent, so nothing
is lost. A crash after Slack accepted a post but before the `ts` was recorded is the one window in which a
message can be sent twice (docs/operations.md says so); the idempotency key keeps everything else single.

A batch is claimed at once, but each row is posted only if this dispatcher still holds it: just before the
post, the claim is checked and renewed for a whole lease (`renew`). A batch that outlasts its lease (posts
to one channel are paced, Slack may be slow) would otherwise post rows another dispatcher has since claimed,
and both would send them. The rows a batch can post at once (no channel to wait for) are checked in the
claim's own transaction instead: claimed a moment before, their claims need no renewing.

A dispatcher told to stop (`stopping`) finishes the row in hand and gives the rest of its batch back.

Failures: a 429 waits exactly `Retry-After` and does not count as an attempt; other transient failures back
off exponentially; permanent ones (`channel_not_found`, `not_in_channel`, a revoked token…) and rows that
exhaust their attempts are marked failed, visibly, with an alert to the triage channel. What became of
each row is written down by desk/services/outbox_records.py; this module decides.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, func, update
from sqlmodel import Session, col, select

from desk.db.engine import unit_of_work
from desk.db.outage import patiently, unreachable
from desk.db.tables import OutboxRow
from desk.observability import logs, metrics
from desk.services import outbox_records
from desk.services.outbox_staleness import read_tickets, stale_many
from desk.services.ports import BatchNotifier, DeliveryFailed, Notifier, OutboxItem, TicketReads

log = logging.getLogger("desk.dispatcher")

_OUTBOX = OutboxRow.__table__
_CLAIMED = (_OUTBOX.c.id, _OUTBOX.c.idempotency_key, _OUTBOX.c.kind, _OUTBOX.c.council_id, _OUTBOX.c.ticket_id,
            _OUTBOX.c.target, _OUTBOX.c.payload, _OUTBOX.c.attempts)
_CLAIM = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id"))
          .values(claimed_until=bindparam("until"), attempts=bindparam("attempts")))

LEASE = timedelta(seconds=60)
BATCH = 50
CHANNEL_PACE_SECONDS = 1.0  # Slack allows about one message a second per channel


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    failures: list[str] = field(default_factory=list)


def claim(session: Session, *, now: datetime, limit: int = BATCH, lease: timedelta = LEASE,
          ticket_id: int | None = None, kinds: tuple[str, ...] | None = None) -> list[OutboxItem]:
    """Rows due now and not claimed by anyone, claimed for `lease`; `ticket_id` and `kinds` narrow it to
    one ticket's notifications (a listener sending what its own change just queued). Core statements (the
    dispatcher claims a batch each pass; row objects would only be read once): one SELECT, one UPDATE."""
    query = (select(*_CLAIMED).where(_OUTBOX.c.status == "pending", _OUTBOX.c.available_at <= now)
             .where(_OUTBOX.c.claimed_until.is_(None) | (_OUTBOX.c.claimed_until < now)))
    if ticket_id is not None:
        query = query.where(_OUTBOX.c.ticket_id == ticket_id)
    if kinds is not None:
        query = query.where(_OUTBOX.c.kind.in_(kinds))
    session.flush()  # as an ORM query would (autoflush): rows added in this unit of work are claimable
    rows = session.execute(query.order_by(_OUTBOX.c.available_at, _OUTBOX.c.id).limit(limit)
                           .with_for_update(skip_locked=True)).all()
    items = [OutboxItem(row.id, row.idempotency_key, row.kind, row.council_id, row.ticket_id, row.target,
                        dict(row.payload), row.attempts + 1) for row in rows]
    if items:
        session.execute(_CLAIM, [{"outbox_id": item.id, "until": now + lease, "attempts": item.attempts}
                                 for item in items])
    return items


def _held(session: Session, item: OutboxItem, claimed_until: datetime | None) -> OutboxRow | None:
    """The row, locked, if it is still pending under this claim (`claimed_until` as `claim` set it, None:
    any claim); None if it was finished or claimed again by someone else since."""
    row = session.exec(select(OutboxRow).where(OutboxRow.id == item.id).with_for_update()).one_or_none()
    return row if _holds(row, item, claimed_until) else None


def _holds(row: OutboxRow | None, item: OutboxItem, claimed_until: datetime | None) -> bool:
    if row is None or row.status != "pending" or row.attempts != item.attempts:
        return False
    return claimed_until is None or row.claimed_until == claimed_until


def renew(session: Session, item: OutboxItem, claimed_until: datetime, *, until: datetime) -> bool:
    """Just before posting: keep the claim until `until`, or False if this dispatcher no longer holds the
    row (its lease ran out and another dispatcher claimed it, or the row was finished): then it must not post."""
    return bool(renew_many(session, [item], {item.id: claimed_until}, until=until))


def renew_many(session: Session, items: Sequence[OutboxItem], claims: dict[int, datetime], *,
               until: datetime) -> list[OutboxItem]:
    """`renew` for rows about to be posted one after the other: those this dispatcher still holds (each
    under its claim in `claims`, by row id), kept until `until`; the rows locked and renewed together."""
    rows = {row.id: row for row in session.exec(
        select(OutboxRow).where(col(OutboxRow.id).in_([item.id for item in items])).with_for_update()).all()}
    held = []
    for item in items:
        row = rows.get(item.id)
        if _holds(row, item, claims[item.id]):
            row.claimed_until = until
            session.add(row)
            held.append(item)
    session.flush()
    return held


def release(session: Session, items: list[OutboxItem], claimed_until: datetime | None = None) -> None:
    """Give back claimed rows this dispatcher will not send (it is stopping): no attempt is spent, and any
    dispatcher may take them at once instead of after the lease. Rows claimed by another since are left."""
    for item in items:
        row = _held(session, item, claimed_until)
        if row is not None:
            row.claimed_until, row.attempts = None, max(row.attempts - 1, 0)
            session.add(row)
    session.flush()


def backlog(session: Session, *, now: datetime) -> tuple[int, float]:
    """Rows pending, and how long (seconds) the oldest one that could be sent now has waited (0 if none)."""
    depth = session.exec(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")).one()
    oldest = session.exec(select(func.min(OutboxRow.available_at))
                          .where(OutboxRow.status == "pending", col(OutboxRow.available_at) <= now)).one()
    return int(depth), max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


class Dispatcher:
    """One per process: remembers when it last posted to each channel, to pace them."""

    def __init__(self, engine: Engine, notifier: Notifier, now: Callable[[], datetime],
                 sleep: Callable[[float], None] = time.sleep, pace: float = CHANNEL_PACE_SECONDS,
                 stopping: threading.Event | None = None, lease: timedelta = LEASE,
                 between: Callable[[], object] | None = None):
        self.engine, self.notifier, self.now, self.sleep, self.pace = engine, notifier, now, sleep, pace
        self.between = between  # before each window: may hold the dispatcher back a moment (acks first)
        self.lease = lease  # DESK_OUTBOX_LEASE_SECONDS: how long a claim keeps other dispatchers off a row
        self.stopping = stopping or threading.Event()  # set: finish the row in hand, give back the rest
        self._last_post: dict[str, float] = {}

    def run_once(self, limit: int = BATCH, *, ticket_id: int | None = None,
                 kinds: tuple[str, ...] | None = None) -> DispatchReport:
        """Claim a batch and send it, a window at a time (`_window`): each window's claims are renewed and
        its rows checked for staleness together, then its rows are posted and recorded one by one."""
        report = DispatchReport()
        if self.stopping.is_set():
            return report
        now = self.now()
        with unit_of_work(self.engine) as session:
            left = claim(session, now=now, limit=limit, lease=self.lease, ticket_id=ticket_id, kinds=kinds)
            # A first window that waits for no channel is checked at once: claimed a moment ago, it needs no renewing
            first = self._window(left) if left and self._wait(left[0].target) <= 0 else []
            checked = self._check(session, first, report) if first else None
        claims = {item.id: now + self.lease for item in left}  # each row's claim, as this dispatcher holds it
        while left and not self.stopping.is_set():
            window = first if checked is not None else self._window(left)
            left = self._send(window, claims, report, (now, checked) if checked is not None else None) \
                + left[len(window):]
            checked = None
        if left:
            with unit_of_work(self.engine) as session:
                for claimed_until in set(claims[item.id] for item in left):
                    release(session, [item for item in left if claims[item.id] == claimed_until], claimed_until)
            log.info("stopping: %s claimed notification(s) given back", len(left))
        return report

    def drain(self, *, max_rounds: int = 100) -> DispatchReport:
        """Send everything available now (for `desk worker --once` and tests)."""
        total = DispatchReport()
        for _ in range(max_rounds):
            report = self.run_once()
            for name in ("sent", "retried", "failed", "cancelled"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.failures += report.failures
            if not (report.sent or report.failed or report.cancelled) or self.stopping.is_set():
                break
        return total

    def _window(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """The rows that can go out one after the other now: the first (which may wait for its channel),
        then each next one whose channel needs no pacing wait (not posted to within `pace`, nor earlier in
        the window). With channels paced, a window is often one row, renewed and checked just before its post."""
        window, targets = [items[0]], {items[0].target}
        for item in items[1:]:
            if self.pace > 0 and item.target and (item.target in targets or self._wait(item.target) > 0):
                break
            window.append(item)
            targets.add(item.target)
        return window

    def _send(self, window: list[OutboxItem], claims: dict[int, datetime], report: DispatchReport,
              checked: tuple[datetime, list[OutboxItem]] | None = None) -> list[OutboxItem]:
        """Renew, check and post a window's rows; return those renewed but not posted (a stop, or the window
        outlasting a quarter of its lease: they go round again, renewed and checked afresh). `checked`: the
        window was checked as it was claimed (when, and the rows to send), so it is not renewed again."""
        if self.between is not None:
            self.between()
        self._pace(window[0].target)  # first: the claims are renewed as close to the posts as they can be
        if checked is not None:
            renewed_at, sendable = checked
        else:
            renewed_at = self.now()
            sendable = self._renew(window, claims, renewed_at + self.lease, report)
        with outbox_records.Records(self.engine) as records:
            for index, item in enumerate(sendable):
                if index and (self.stopping.is_set() or self.now() - renewed_at > self.lease / 4):
                    return sendable[index:]
                if index:
                    self._pace(item.target)  # no wait (see `_window`): only remembers the post
                with logs.bind(ticket=item.payload.get("ref")):
                    self._post(item, report, records)
        return []

    def _renew(self, window: list[OutboxItem], claims: dict[int, datetime], until: datetime,
               report: DispatchReport) -> list[OutboxItem]:
        """The window's rows this dispatcher still holds and that still make sense (`_check`), renewed until
        `until`."""
        with unit_of_work(self.engine) as session:
            held = renew_many(session, window, claims, until=until)
            sendable = self._check(session, held, report)
        kept = {item.id for item in held}
        for item in window:
            if item.id in kept:
                claims[item.id] = until
            else:
                with logs.bind(ticket=item.payload.get("ref")):
                    log.warning("%s: claimed by another dispatcher after this one's lease ran out; left to it",
                                item.key)
        return sendable

    def _check(self, session: Session, held: list[OutboxItem], report: DispatchReport) -> list[OutboxItem]:
        """Of rows this dispatcher holds, those that still make sense; the stale ones are cancelled. The
        notifier may then read what rendering them needs, together, in the same transaction."""
        reads = read_tickets(session, held)
        reasons = stale_many(session, held, reads)
        for item in held:
            if item.id in reasons:
                outbox_records.cancel(session, item.id, reason=reasons[item.id])
                report.cancelled += 1
                metrics.NOTIFICATIONS.labels(kind=item.kind, outcome="cancelled").inc()
        sendable = [item for item in held if item.id not in reasons]
        if len(sendable) > 1 and isinstance(self.notifier, BatchNotifier):
            self._prepare(session, sendable, reads)
        return sendable

    def _prepare(self, session: Session, sendable: list[OutboxItem], reads: TicketReads) -> None:
        """The notifier's reads for rendering, in the transaction that renewed and checked the rows (one
        transaction per window), given what checking them read; under a savepoint, so that a failed read
        leaves the renewals in place."""
        assert isinstance(self.notifier, BatchNotifier)
        try:
            with session.begin_nested():
                self.notifier.prepare(session, sendable, reads)
        except Exception as err:
            if unreachable(err):  # as in delivering: the lease brings the rows back
                raise
            log.exception("reading %s notification(s) together failed; each is read on its own", len(sendable))

    def _post(self, item: OutboxItem, report: DispatchReport, records: outbox_records.Records) -> None:
        try:
            ts = self.notifier.deliver(item)
        except DeliveryFailed as failure:
            self._failed(item, failure, report)
            return
        except Exception as err:  # an adapter bug or an unexpected answer: transient, with a trace
            if unreachable(err):  # the database went away while rendering: the lease brings the row back
                raise
            log.exception("delivering %s failed", item.key)
            self._failed(item, DeliveryFailed(type(err).__name__), report)
            return

        # Slack has it: recording that must outlast a database blip, or it is posted twice
        patiently(lambda: records.sent(item.id, ts=ts, at=self.now()), what=f"recording {item.key} as sent",
                  stopping=self.stopping)
        report.sent += 1
        metrics.NOTIFICATIONS.labels(kind=item.kind, outcome="sent").inc()

    def _wait(self, target: str) -> float:
        last = self._last_post.get(target)
        return 0.0 if last is None else self.pace - (time.monotonic() - last)

    def _pace(self, target: str | None) -> None:
        if not target:
            return
        wait = self._wait(target)
        if wait > 0:
            self.sleep(wait)
        self._last_post[target] = time.monotonic()

    def _failed(self, item: OutboxItem, failure: DeliveryFailed, report: DispatchReport) -> None:
        outcome = outbox_records.failed(self.engine, item, failure, self.now())
        if outcome == "failed":
            report.failed += 1
            report.failures.append(f"{item.key}: {failure.code}")
        else:
            report.retried += 1
        metrics.NOTIFICATIONS.labels(kind=item.kind, outcome=outcome).inc()
