"""Round-robin turns are safe with several replicas: two processes' worth of engines opening tickets for
two councils at once, under one routing rule, share the turns evenly (the turn row is read under its lock
in the transaction that opens the ticket, so no two transactions take the same turn)."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import RoutingTurnRow, TicketEventRow
from desk.domain.playbook import PlaybookSet
from desk.services import rota, tickets
from desk.services.playbook_files import load_directory
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import MONDAY

PEOPLE = ("U0ENGINEER1", "U0ENGINEER2", "U0DUTYLEAD")
EACH = 24  # tickets per replica
ROTA = f"""\
  rota:
    calendar: standard
    pattern:
      start: 2026-01-05
      cycle:
        - {{duty_lead: U0DUTYLEAD, engineers: [{", ".join(PEOPLE)}]}}
    routing:
      - {{id: everyone, councils: [cherwell, fife]}}
"""


@pytest.fixture
def test_playbooks(tmp_path: Path) -> PlaybookSet:
    directory = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    (directory / "councils.yaml").write_text((directory / "councils.yaml").read_text() + ROTA)
    return load_directory(directory)


def test_two_replicas_routing_at_once_take_turns_without_repeating(synced: Engine, database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(engine: Engine, council: str) -> None:
        try:
            start.wait()
            for n in range(EACH):
                at = MONDAY + timedelta(hours=1, seconds=n)
                with unit_of_work(engine) as session:
                    ticket = tickets.open_ticket(session, council_id=council, title=f"Request {n}", actor="U0X",
                                                 at=at)
                    rota.route(session, ticket, at=at)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=replica, args=(engine, council))
               for engine, council in zip(engines, ("cherwell", "fife"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert errors == []
    with unit_of_work(synced) as session:
        chosen = session.exec(select(TicketEventRow.data).where(TicketEventRow.type == "assigned")
                               .order_by(TicketEventRow.at, TicketEventRow.id)).all()
        turn = session.get(RoutingTurnRow, "everyone")
    picks = [data["to"] for data in chosen]
    assert Counter(picks) == {person: 2 * EACH // len(PEOPLE) for person in PEOPLE}
    assert all(data["chosen_by"]["rule"] == "everyone" for data in chosen)
    assert turn is not None and turn.last_assignee in PEOPLE
