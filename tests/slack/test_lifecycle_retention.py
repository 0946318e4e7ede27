"""Retention in real use: a ticket opened and resolved in Slack is closed by the worker on its due date,
and its words are redacted by the worker's retention job once the council's period has passed. Nobody
calls close() by hand; the worker's own jobs (its one explicit list) do everything."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from desk.db.engine import unit_of_work
from desk.services import audit, playbooks
from desk.services.playbook_files import load_directory
from tests.conftest import SYNCED_AT
from tests.services.test_retention import everything_stored, playbooks_with
from tests.slack.conftest import Desk
from tests.slack.test_lifecycle import CLOSES, opened_and_resolved, ticket

WORDS = "We cannot take card payments at the Banbury counter"
NOTE = "Replaced the PIN pad at the Banbury counter"


def every_job(desk: Desk) -> None:
    """One pass of every job the worker schedules, in its order, as the scheduler would run them."""
    work = desk.wiring.worker(channel_pace=0, enqueue_digests=None)
    for job in work.jobs():
        job.run()


def test_opened_resolved_closed_by_the_worker_then_redacted_by_retention(desk: Desk, tmp_path: Path) -> None:
    with unit_of_work(desk.engine) as session:  # Cherwell keeps people's words for 30 days after closing
        directory = playbooks_with(tmp_path, "    retention: {redact_after_days: 30}\n")
        playbooks.sync(session, load_directory(directory), at=SYNCED_AT)
    opened_and_resolved(desk, note=NOTE)
    assert WORDS in everything_stored(desk.engine)

    desk.clock.at = CLOSES - timedelta(minutes=1)
    every_job(desk)
    assert ticket(desk, "CHW-1")[0].status == "resolved"

    desk.clock.at = CLOSES + timedelta(seconds=5)
    every_job(desk)
    closed, _ = ticket(desk, "CHW-1")
    assert closed.status == "closed" and closed.closed_at == CLOSES + timedelta(seconds=5)
    assert closed.redacted_at is None

    desk.clock.at = closed.closed_at + timedelta(days=30) - timedelta(seconds=1)
    every_job(desk)
    assert ticket(desk, "CHW-1")[0].redacted_at is None, "not a second early"

    desk.clock.at = closed.closed_at + timedelta(days=30, hours=1)
    every_job(desk)
    redacted, events = ticket(desk, "CHW-1")
    assert redacted.redacted_at == desk.clock.at and redacted.title == "[redacted]"
    assert [e[0] for e in events][-2:] == ["closed", "redacted"]
    stored = everything_stored(desk.engine)
    assert WORDS not in stored and NOTE not in stored and "Banbury" not in stored
    with unit_of_work(desk.engine) as session:
        assert audit.verify(session, "cherwell").ok
    assert json.dumps(events).count('"redacted"') >= 2  # the markers, and the event saying what went
