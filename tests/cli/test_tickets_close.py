"""`desk tickets close REF`: close a resolved ticket by hand; the council hears through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow
from desk.services import tickets
from tests.cli.test_cli import desk, ready  # noqa: F401  (fixtures)

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_close_a_resolved_ticket_by_hand(ready, database_url: str) -> None:  # noqa: F811
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        tickets.open_ticket(session, council_id="cherwell", title="Refund stuck", actor="U0ALICE", at=MONDAY,
                            slack_channel="C0CHERWELL", slack_ts="1767603600.000100")
        tickets.open_ticket(session, council_id="cherwell", title="Report needed", actor="U0ALICE", at=MONDAY)
        tickets.resolve(session, ref="CHW-1", note="Refunded", actor="U0ENGINEER1", at=MONDAY)

    with time_machine.travel(datetime(2026, 1, 6, 11, 0, tzinfo=UTC), tick=False):
        closed = ready("tickets", "close", "chw-1", "--json")
    assert closed.code == 0, closed.err
    assert closed.json()["status"] == "closed"
    shown = ready("tickets", "show", "CHW-1", "--json").json()
    assert shown["events"][-1]["type"] == "closed" and shown["events"][-1]["actor"] == "cli"
    with unit_of_work(engine) as session:
        [told] = session.exec(select(OutboxRow).where(OutboxRow.kind == "closed")).all()
        assert (told.target, told.payload, told.status) == ("C0CHERWELL", {"ref": "CHW-1"}, "pending")

    again = ready("tickets", "close", "CHW-1")
    assert again.code == 1 and "CHW-1 is closed: it cannot move to closed" in again.err
    still_open = ready("tickets", "close", "CHW-2")
    assert still_open.code == 1 and "CHW-2 is new: it cannot move to closed" in still_open.err
    assert ready("tickets", "close", "CHW-99").code == 1
    engine.dispose()
