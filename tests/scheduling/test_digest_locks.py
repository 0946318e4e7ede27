"""A digest's figures are read without the write lock: on SQLite the worker shares the web process, whose
acks must not queue behind a digest being computed and drawn."""

from __future__ import annotations

from sqlalchemy import event

from desk.db.engine import unit_of_work
from desk.services import digests
from tests.scheduling.conftest import Rig
from tests.slack.conftest import CHERWELL_CHANNEL


class Transactions:
    """What kind of transaction each statement ran in: "read" (SQLite's plain BEGIN, PostgreSQL's READ ONLY)
    or "write" (BEGIN IMMEDIATE, or PostgreSQL's default)."""

    def __init__(self, rig: Rig) -> None:
        self.kind: dict[int, str] = {}
        self.seen: list[tuple[str, str]] = []
        event.listen(rig.engine, "before_cursor_execute", self._statement)
        event.listen(rig.engine, "commit", self._ended)
        event.listen(rig.engine, "rollback", self._ended)

    def _statement(self, connection, _cursor, statement: str, *_: object) -> None:
        key = id(connection.connection.dbapi_connection)
        if statement == "BEGIN" or statement.startswith("SET TRANSACTION READ ONLY"):
            self.kind[key] = "read"
        elif statement == "BEGIN IMMEDIATE":
            self.kind[key] = "write"
        self.seen.append((self.kind.get(key, "write"), statement))

    def _ended(self, connection) -> None:
        self.kind.pop(id(connection.connection.dbapi_connection), None)


def test_a_digest_is_computed_in_a_read_only_transaction_and_still_recorded(rig: Rig) -> None:
    with unit_of_work(rig.engine) as session:
        assert digests.enqueue(session, council_id="cherwell", week="2026-W01", at=rig.clock.now()) is not None
        assert digests.enqueue_managers(session, week="2026-W01", at=rig.clock.now()) is not None
    transactions = Transactions(rig)
    assert rig.worker().dispatch().sent == 2
    clock_reads = [kind for kind, statement in transactions.seen
                   if statement.lstrip().startswith("SELECT") and "sla_clock" in statement]
    assert clock_reads and set(clock_reads) == {"read"}
    writes = [kind for kind, statement in transactions.seen if statement.lstrip().startswith("UPDATE outbox")]
    assert writes and set(writes) == {"write"}  # the delivery is still recorded, in a writing transaction
    assert [c for c in rig.posts() if c.args["channel"] == CHERWELL_CHANNEL]
