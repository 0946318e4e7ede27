"""Shared fixtures: a real, migrated database per test and the frozen test playbooks.

`DESK_TEST_DATABASE_URL` points the suite at another server (PostgreSQL in CI); each test then gets a
fresh database created on it. Without it, each test gets its own SQLite file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from desk.db import migrate
from desk.db.engine import make_engine, unit_of_work
from desk.domain.playbook import PlaybookSet
from desk.services import playbooks
from desk.services.playbook_files import load_directory

FIXTURES = Path(__file__).parent / "fixtures"
TEST_PLAYBOOKS = FIXTURES / "playbooks"
SYNCED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("DESK_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    name = f"desk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def test_playbooks() -> PlaybookSet:
    return load_directory(TEST_PLAYBOOKS)


@pytest.fixture
def synced(engine: Engine, test_playbooks: PlaybookSet) -> Engine:
    """A migrated database with the test playbooks synced."""
    with unit_of_work(engine) as session:
        playbooks.sync(session, test_playbooks, at=SYNCED_AT)
    return engine


@pytest.fixture
def session(synced: Engine) -> Iterator[Session]:
    with unit_of_work(synced) as session:
        yield session
