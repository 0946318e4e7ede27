"""The migrations create exactly the schema the code declares, and `upgrade` is safe to run twice."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, inspect
from sqlmodel import SQLModel

from desk.db import migrate, queries, search_index
from desk.db.engine import unit_of_work
from desk.db.tables import TicketRow
from desk.services import tickets
from tests.conftest import SYNCED_AT


def test_migrations_match_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": lambda name, *_: not search_index.owns(name)})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_is_idempotent_and_current(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert migrate.current(engine) == migrate.head()


def test_the_sweeper_index_exists(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("sla_clock")}
    assert indexes["ix_sla_clock_next_step_at"]["column_names"] == ["next_step_at"]


def test_the_closing_pass_index_exists(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("ticket")}
    assert indexes["ix_ticket_close_due_at"]["column_names"] == ["close_due_at"]
    assert indexes["ix_ticket_follow_up_of"]["column_names"] == ["follow_up_of"]


def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_the_search_index_exists_in_the_databases_own_engine(engine: Engine) -> None:
    """The one part of the schema metadata does not declare (desk/db/search_index.py): checked by hand."""
    if engine.dialect.name == "postgresql":
        columns = {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("ticket_search")}
        assert columns == {"ticket_id": "INTEGER", "document": "TSVECTOR"}
        with engine.connect() as connection:
            method = connection.exec_driver_sql(
                "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'ix_ticket_search_document'").scalar()
        assert method == "gin"
    else:
        with engine.connect() as connection:
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ticket_search'").scalar()
        assert sql is not None and "USING fts5(title, description, replies" in sql
        assert "porter" in sql


def test_search_index_is_dropped_and_rebuilt_by_its_migration(engine: Engine) -> None:
    migrate.downgrade(engine, "0011")
    assert "ticket_search" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "ticket_search" in inspect(engine).get_table_names()


def test_head_and_current_read_without_alembic_agree_with_alembic(engine: Engine, tmp_path) -> None:
    """`migrate.head` reads the migration files and `migrate.current` the version table, so that the web
    process's health checks need not import Alembic: both must say what Alembic says."""
    from alembic.script import ScriptDirectory

    from desk.db.engine import make_engine

    assert migrate.head() == ScriptDirectory.from_config(migrate._config()).get_current_head()
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    for database in (engine, empty):
        with database.connect() as connection:
            assert migrate.current(database) == MigrationContext.configure(connection).get_current_revision()
    assert migrate.current(empty) is None and not migrate.is_current(empty)
    empty.dispose()


def _copied_and_analyzed(engine: Engine, ticket_id: int, upto: int, *, blank: tuple[str, ...] = ()) -> list:
    """Tickets CHW-2..CHW-`upto` like this one (the `blank` columns empty), ANALYZE; then the statements
    sent from here on, as (sql, parameters)."""
    copied = [c.name for c in TicketRow.__table__.columns if c.name not in ("id", "number", "ref", *blank)]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < {upto}) "
            f"INSERT INTO ticket ({', '.join(copied)}, number, ref) "
            f"SELECT {', '.join(copied)}, n.i, 'CHW-' || n.i FROM ticket, n WHERE ticket.id = {ticket_id}")
        connection.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: statements.append((sql, params)))
    return statements


def _plan(engine: Engine, sql: str, params: object) -> str:
    with engine.connect() as connection:
        return " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))


def test_lookups_whose_index_a_ticket_no_longer_writes_still_search(synced: Engine) -> None:
    """Migration 0018 dropped `ix_ticket_council_id` and `ix_sla_clock_ticket_id` (their unique constraints'
    indexes lead with the column) and made `ix_ticket_assignee` and `ix_ticket_card_ts` partial: each of
    these lookups, after ANALYZE over 2,000 tickets, is still a search through an index, never a scan."""
    if synced.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's planner scans a table this small anyway")
    with unit_of_work(synced) as session:
        first = tickets.open_ticket(session, council_id="cherwell", title="Card payments failing", actor="U0ALICE",
                                    at=SYNCED_AT)
        tickets.assign(session, ref=first.ref, assignee="U0BOB", actor="U0BOB", at=SYNCED_AT)
        first.card_channel, first.card_ts = "C0TRIAGE", "1772622000.000001"
    statements = _copied_and_analyzed(synced, first.id, 2000, blank=("assignee", "card_ts"))
    with unit_of_work(synced) as session:
        assert [t.ref for t in queries.list_tickets(session, assignee="U0BOB")] == [first.ref]
        assert queries.find_ticket_by_card(session, "C0TRIAGE", "1772622000.000001").ref == first.ref
        assert {c.ticket_id for c in queries.list_sla_clocks_of(session, [first.id])} == {first.id}
        assert len(queries.list_tickets(session, council_id="fife")) == 0
    looked_up = {"assignee = ": "ix_ticket_assignee", "card_ts = ": "ix_ticket_card_ts",
                 "sla_clock.ticket_id IN": "sqlite_autoindex_sla_clock_1",
                 "ticket.council_id = ": "sqlite_autoindex_ticket_1"}
    for needle, index in looked_up.items():
        (sql, params), = [(s, p) for s, p in statements if needle in s]
        plan = _plan(synced, sql, params)
        assert f"USING INDEX {index}" in plan and "SCAN ticket" not in plan and "SCAN sla_clock" not in plan, plan


def test_after_analyze_follow_ups_are_still_found_by_their_index(synced: Engine) -> None:
    """Nearly no ticket follows another up. SQLite's ANALYZE (or `PRAGMA optimize`) counted the NULLs of a
    full index as one key as large as the table, and its planner then scanned every ticket for the
    follow-ups each card names; the partial index keeps that a search."""
    if synced.dialect.name != "sqlite":
        pytest.skip("SQLite's statistics: PostgreSQL's planner counts NULLs apart")
    with unit_of_work(synced) as session:
        first = tickets.open_ticket(session, council_id="cherwell", title="Card payments failing", actor="U0ALICE",
                                    at=SYNCED_AT).id
    statements = _copied_and_analyzed(synced, first, 5000)  # none of them a follow-up
    with unit_of_work(synced) as session:
        assert queries.list_follow_ups_of(session, list(range(first, first + 50))) == []
    (sql, params), = [(s, p) for s, p in statements if "follow_up_of IN" in s]
    plan = _plan(synced, sql, params)
    assert "USING INDEX ix_ticket_follow_up_of" in plan and "SCAN ticket" not in plan, plan
