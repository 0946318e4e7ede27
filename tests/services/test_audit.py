"""The per-council hash chain: it verifies when untouched and names the first event that was tampered with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services import audit, tickets

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(synced: Engine) -> Engine:
    """Two councils' interleaved histories: chains are per council."""
    with unit_of_work(synced) as session:
        for n, council in enumerate(["cherwell", "fife", "cherwell"]):
            t = tickets.open_ticket(session, council_id=council, title=f"Refund {n}", actor="U0COUNCIL",
                                    at=MONDAY + timedelta(minutes=n))
            tickets.reply(session, ref=t.ref, text="On it", actor="U0ENGINEER1",
                          at=MONDAY + timedelta(minutes=10 + n))
    return synced


def verify(engine: Engine, council: str) -> audit.ChainReport:
    with unit_of_work(engine) as session:
        return audit.verify(session, council)


def test_untouched_chains_verify(history: Engine) -> None:
    cherwell, fife = verify(history, "cherwell"), verify(history, "fife")
    assert (cherwell.ok, cherwell.events) == (True, 6)  # opened, replied, status, twice
    assert (fife.ok, fife.events) == (True, 3)


def test_an_edited_event_is_named(history: Engine) -> None:
    with history.begin() as connection:
        connection.execute(text(
            "UPDATE ticket_event SET data = :data WHERE council_id = 'cherwell' AND seq = 2"),
            {"data": '{"text": "We never said that"}'})
    report = verify(history, "cherwell")
    assert (report.ok, report.broken_at) == (False, 2)
    assert "edited" in report.reason
    assert verify(history, "fife").ok  # another council's chain is unaffected


def test_an_edited_actor_or_instant_is_caught_too(history: Engine) -> None:
    with history.begin() as connection:
        connection.execute(text("UPDATE ticket_event SET actor = 'U0SOMEONE' WHERE council_id = 'fife' AND seq = 3"))
    assert verify(history, "fife").broken_at == 3


def test_a_deleted_event_in_the_middle_is_caught(history: Engine) -> None:
    with history.begin() as connection:
        connection.execute(text("DELETE FROM ticket_event WHERE council_id = 'cherwell' AND seq = 3"))
    report = verify(history, "cherwell")
    assert report.broken_at == 4 and "missing" in report.reason


def test_a_truncated_log_is_caught_by_the_councils_head(history: Engine) -> None:
    with history.begin() as connection:
        connection.execute(text("DELETE FROM ticket_event WHERE council_id = 'cherwell' AND seq = 6"))
    report = verify(history, "cherwell")
    assert report.broken_at == 6 and "removed" in report.reason


def test_a_rehashed_forgery_still_breaks_the_link_to_the_next_event(history: Engine) -> None:
    """Recomputing one event's hash after editing it is not enough: the next event points at the old hash."""
    from desk.domain.audit import event_hash

    with unit_of_work(history) as session:
        event = queries.list_council_events(session, "cherwell")[1]
        event.data = {"text": "forged"}
        event.hash = event_hash(council_id=event.council_id, seq=event.seq, ticket_ref=event.ticket_ref,
                                type=event.type, actor=event.actor, at=event.at, data=event.data,
                                prev_hash=event.prev_hash, version=event.hash_version, salt=event.text_salt)
        session.add(event)
    assert verify(history, "cherwell").broken_at == 3
