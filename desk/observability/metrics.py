"""desk's Prometheus metrics.

Two kinds, kept apart on purpose:

- **Counters and histograms** count what this process did (requests, tickets opened, SLA steps, sends,
  Slack API errors). They are module-level objects in `PROCESS`, a registry of desk's own (never
  prometheus_client's global default registry), so any layer increments them without being handed
  anything: a service calls `TICKETS_OPENED.labels(...).inc()`. Tests read them as deltas.
- **Gauges read from the database** (outbox depth and age, SLA steps due) describe the whole system, not
  this process: a `BacklogCollector` computes them at scrape time through a function the wiring gives it.

`registry(...)` builds what one process exposes at `/metrics`: `PROCESS` plus collectors such as the
backlog one. The wiring builds one per `Wiring`, so two apps in one test run never share a DB collector.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger("desk.metrics")

PROCESS = CollectorRegistry(auto_describe=True)
BACKLOG_EVERY_SECONDS = 5.0  # the backlog gauges are read from the database at most this often

# Slack wants an ack within 3 s; most are a few milliseconds.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

REQUEST_TYPES = ("event", "command", "block_actions", "view_submission", "shortcut", "message_action",
                 "url_verification", "other")

REQUESTS = Counter("desk_requests", "Requests to POST /slack/events, by payload type and outcome "
                   "(ok, unauthorized, malformed, error).", ["type", "outcome"], registry=PROCESS)
ACK_SECONDS = Histogram("desk_ack_seconds", "Time to answer (ack) a signed, well-formed Slack request.",
                        ["type"], buckets=ACK_BUCKETS, registry=PROCESS)
LOOP_ACKS = Counter("desk_loop_acks", "Slack requests answered by the web server's own loop, without a thread "
                    "(desk.http_worker's front door), by payload type: the rest of desk_requests went to a thread.",
                    ["type"], registry=PROCESS)
SOCKET_MODE = Counter("desk_socket_mode_envelopes", "Envelopes received over Socket Mode, by payload type and "
                      "outcome: acked; not_acked (desk's answer was not a 200: Slack delivers an event again); "
                      "late (ready after the ack deadline, so never acked); refused (arrived while stopping: "
                      "not acked, Slack delivers it again).", ["type", "outcome"], registry=PROCESS)
SOCKET_MODE_CONNECTIONS = Counter("desk_socket_mode_connections", "Socket Mode connections opened (the first "
                                  "and each reconnection), by outcome (opened, failed).", ["outcome"],
                                  registry=PROCESS)
TICKETS_OPENED = Counter("desk_tickets_opened", "Tickets opened, by council.", ["council"], registry=PROCESS)
SLA_STEPS = Counter("desk_sla_steps", "SLA escalation steps sent by the sweeper, by kind (warn, breach) and "
                    "metric (respond, resolve).", ["kind", "metric"], registry=PROCESS)
SLA_STEPS_SUPERSEDED = Counter("desk_sla_steps_superseded", "SLA steps recorded as done without a message: "
                               "a more severe step fell due at the same time.", registry=PROCESS)
NOTIFICATIONS = Counter("desk_notifications", "Outbox rows handled by the dispatcher, by kind and outcome "
                        "(sent, retried, failed, cancelled).", ["kind", "outcome"], registry=PROCESS)
SLACK_API_ERRORS = Counter("desk_slack_api_errors", "Slack Web API calls that failed (after the client's own "
                           "bounded retries), by method and error code.", ["method", "code"], registry=PROCESS)
INBOX = Counter("desk_inbox", "Slack requests in the durable receipt (inbox), by kind and outcome: stored (before "
                "the ack), redelivered (already stored: acked without new work), refused (could not be stored "
                "in time: answered so that Slack delivers it again), reworked (claimed again after its lease), "
                "abandoned (reworked too often: left for an operator).", ["kind", "outcome"], registry=PROCESS)


def outcome_of(status: int) -> str:
    """A request's outcome from its HTTP status."""
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "unauthorized"
    if status in (400, 413, 415):
        return "malformed"
    return "error"


@dataclass(frozen=True)
class Backlog:
    """Work waiting in the database at one instant: what the worker has not caught up with yet."""

    outbox_depth: int  # notifications pending
    outbox_oldest_age_seconds: float  # how long the oldest one that could be sent now has waited
    sla_steps_due: int  # SLA clocks whose next escalation step is due but not yet swept
    inbox_unfinished: int = 0  # Slack requests stored and not yet worked (in flight, or waiting for rework)


class BacklogCollector:
    """`desk_outbox_depth`, `desk_outbox_oldest_age_seconds` and `desk_sla_steps_due`, read at scrape time,
    from the database at most once every `every` seconds (scrapes in between, however many and whoever
    sends them, get the last reading), so `/metrics` cannot be used to load the database.

    A scrape must never fail because the database does: then the gauges are NaN and the reason is logged.
    """

    def __init__(self, read: Callable[[], Backlog], *, every: float = 0.0,
                 seconds: Callable[[], float] = time.monotonic):
        self.read, self.every, self.seconds = read, every, seconds  # `seconds`: the caller's clock
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._values: tuple[float, float, float, float] = (math.nan, math.nan, math.nan, math.nan)

    def describe(self) -> Iterable[Metric]:
        return self._families(None)  # registering must not touch the database

    def collect(self) -> Iterable[Metric]:
        with self._lock:  # concurrent scrapes: one reads, the others wait for its reading
            now = self.seconds()
            if self._read_at is None or now - self._read_at >= self.every:
                self._values, self._read_at = self._reading(), now
            return self._families(self._values)

    def _reading(self) -> tuple[float, float, float, float]:
        try:
            backlog = self.read()
        except Exception as err:  # any database failure: report NaN rather than break /metrics
            log.warning("backlog metrics unavailable: %s: %s", type(err).__name__, err)
            return math.nan, math.nan, math.nan, math.nan
        return (float(backlog.outbox_depth), backlog.outbox_oldest_age_seconds, float(backlog.sla_steps_due),
                float(backlog.inbox_unfinished))

    @staticmethod
    def _families(values: tuple[float, float, float, float] | None) -> list[Metric]:
        families = [
            GaugeMetricFamily("desk_outbox_depth", "Outbox rows waiting to be sent (pending)."),
            GaugeMetricFamily("desk_outbox_oldest_age_seconds",
                              "How long the oldest pending outbox row available now has waited."),
            GaugeMetricFamily("desk_sla_steps_due", "SLA clocks whose next escalation step is due and not yet "
                              "swept (the sweeper's lag)."),
            GaugeMetricFamily("desk_inbox_unfinished", "Slack requests stored before their ack and not worked "
                              "yet: in flight, waiting for rework after a crash, or given up on."),
        ]
        if values is not None:
            for family, value in zip(families, values, strict=True):
                family.add_metric([], value)
        return families


def registry(*collectors: object) -> CollectorRegistry:
    """What one process exposes: its own counters plus the given collectors."""
    built = CollectorRegistry(auto_describe=True)
    built.register(PROCESS)  # a registry is itself a collector
    for collector in collectors:
        built.register(collector)  # type: ignore[arg-type]
    return built


def exposition(source: CollectorRegistry) -> tuple[bytes, str]:
    """The body and content type of a `/metrics` answer (Prometheus text format)."""
    return generate_latest(source), CONTENT_TYPE_LATEST
