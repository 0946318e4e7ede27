"""Two workers on one database never double-send: claims skip locked rows, keys are unique."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import select

from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow, TicketEventRow
from desk.services import tickets
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ALICE, MONDAY

TICKETS = 30


def test_two_workers_at_once_send_each_notification_exactly_once(rig: Rig, database_url: str) -> None:
    with unit_of_work(rig.engine) as session:
        for n in range(TICKETS):
            tickets.open_ticket(session, council_id="cherwell", title=f"We cannot take payments {n}", actor=ALICE,
                                at=MONDAY)
    rig.clock.at = MONDAY + timedelta(hours=5)  # every ticket has a breach due (and three superseded steps)
    engines: list[Engine] = []
    workers = []
    for _ in range(2):  # two processes' worth: separate engines and pools
        engine = make_engine(database_url)
        engines.append(engine)
        rig.wiring.__dict__["engine"] = engine
        workers.append(rig.worker())
    rig.wiring.__dict__["engine"] = rig.engine
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(work) -> None:
        try:
            start.wait()
            for _ in range(3):
                work.run_once()
        except BaseException as err:  # the assertion below reports it
            errors.append(err)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    with unit_of_work(rig.engine) as session:
        rows = session.exec(select(OutboxRow)).all()
        escalated = session.exec(select(TicketEventRow.ticket_id).where(TicketEventRow.type == "escalated")).all()
    assert len(rows) == TICKETS and all(r.status == "sent" for r in rows)
    assert Counter(escalated) == {ticket_id: 1 for ticket_id in set(escalated)} and len(escalated) == TICKETS
    posts = [c for c in rig.slack.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == TICKETS
    assert len({json_ref(c) for c in posts}) == TICKETS


def json_ref(call) -> str:
    return call.args["text"].split(":")[0]
