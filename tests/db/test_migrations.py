"""The migrations create exactly the schema the code declares, and `upgrade` is safe to run twice."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from desk.db import migrate


def test_migrations_match_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
