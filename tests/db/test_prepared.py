"""Statements run prepared (desk/db/prepared.py) write and read exactly what SQLAlchemy's execution would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    exc,
    insert,
    literal,
    select,
    update,
)

from desk.db.prepared import Prepared
from desk.db.types import UTCDateTime

AT = datetime(2026, 3, 30, 9, 15, 30, 123456, tzinfo=UTC)
THINGS = Table(
    "prepared_things", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("key", String(40), nullable=False, unique=True),
    Column("at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime, nullable=True),
    Column("data", JSON, nullable=True),
    Column("done", Boolean, nullable=False, default=False),
    Column("count", Integer, nullable=True),
)
INSERT = Prepared(insert(THINGS))
RETURNING = Prepared(insert(THINGS).returning(THINGS.c.id, THINGS.c.at, THINGS.c.data, THINGS.c.done))


def row(key: str, **given: object) -> dict[str, object]:
    return {"key": key, "at": AT, "until": None, "data": {"lines": ["a", "é"], "n": 2}, "done": False,
            "count": None, **given}


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    THINGS.create(engine)
    with engine.begin() as connection:
        yield connection


def stored(connection: Connection, key: str) -> tuple:
    """The row as the database holds it, no type processing (SQLite: the text of each instant)."""
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql('SELECT at, until, data, done, count FROM prepared_things '
                                           'WHERE "key" = ?', (key,))
    else:
        found = connection.exec_driver_sql("SELECT at, until, data::text, done, count FROM prepared_things "
                                           "WHERE key = %(key)s", {"key": key})
    return tuple(found.one())


def test_a_row_is_stored_as_sqlalchemy_stores_it(connection: Connection) -> None:
    later = AT + timedelta(days=3, microseconds=1)
    INSERT.execute(connection, row("a", until=later, done=True, count=7))
    connection.execute(insert(THINGS), row("b", until=later, done=True, count=7))
    assert stored(connection, "a") == stored(connection, "b")
    read = connection.execute(select(THINGS).where(THINGS.c.key == "a")).one()
    assert (read.at, read.until, read.data, read.done, read.count) == (AT, later, row("a")["data"], True, 7)


def test_several_rows_are_one_statement_each_given_its_own_values(connection: Connection) -> None:
    seen: list[str] = []
    event.listen(connection, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    INSERT.execute(connection, [row("a", count=1), row("b", count=2, until=AT), row("c", count=3)])
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO prepared_things")
    read = connection.execute(select(THINGS.c.key, THINGS.c.count, THINGS.c.until).order_by(THINGS.c.key)).all()
    assert [tuple(r) for r in read] == [("a", 1, None), ("b", 2, AT), ("c", 3, None)]


def test_what_it_returns_goes_through_the_columns_types(connection: Connection) -> None:
    (returned,) = RETURNING.execute(connection, row("a", done=True))
    assert returned[1:] == (AT, row("a")["data"], True)
    assert returned[1].tzinfo is not None
    assert returned[0] == connection.execute(select(THINGS.c.id).where(THINGS.c.key == "a")).scalar_one()


def test_values_the_statement_carries_itself_are_bound(connection: Connection) -> None:
    INSERT.execute(connection, [row("a", count=1), row("b", count=2)])
    counted = Prepared(select(THINGS.c.key).where(THINGS.c.count > literal(1)).where(THINGS.c.key != bindparam("not")))
    assert counted.execute(connection, {"not": "z"}) == [("b",)]
    assert counted.execute(connection, {"not": "b"}) == []
    bump = Prepared(update(THINGS).where(THINGS.c.key == bindparam("which")).values(count=THINGS.c.count + 10))
    assert bump.execute(connection, {"which": "a"}) == []
    assert connection.execute(select(THINGS.c.count).where(THINGS.c.key == "a")).scalar_one() == 11


def test_a_failure_is_sqlalchemys_error_and_the_engine_hears_of_it(engine: Engine, connection: Connection) -> None:
    heard: list[BaseException] = []
    event.listen(engine, "handle_error", lambda context: heard.append(context.original_exception))
    INSERT.execute(connection, row("a"))
    with pytest.raises(exc.IntegrityError):
        INSERT.execute(connection, row("a"))
    assert len(heard) == 1


def test_a_parameter_left_out_is_refused_before_anything_runs(connection: Connection) -> None:
    by_key = Prepared(select(THINGS.c.id).where(THINGS.c.key == bindparam("key")))
    refused = (ValueError if connection.dialect.name == "sqlite" else exc.StatementError)  # else SQLAlchemy's
    with pytest.raises(refused, match="value (is required )?for (bind )?(the )?parameter 'key'"):
        by_key.execute(connection, {"other": "a"})


def test_a_column_left_to_its_python_default_is_refused(connection: Connection) -> None:
    without_done = {key: value for key, value in row("a").items() if key != "done"}
    if connection.dialect.name != "sqlite":  # SQLAlchemy's own execution, which computes it
        INSERT.execute(connection, without_done)
        assert connection.execute(select(THINGS.c.done)).scalar_one() is False
        return
    with pytest.raises(ValueError, match="no value given for done"):
        INSERT.execute(connection, without_done)


def test_on_a_connection_outside_a_transaction_it_begins_one_as_sqlalchemy_does(engine: Engine) -> None:
    THINGS.create(engine)
    with engine.connect() as connection:
        INSERT.execute(connection, row("a"))
        assert connection.in_transaction()
        connection.rollback()  # nothing was committed on its own
        assert connection.execute(select(THINGS.c.key)).all() == []


def test_an_instant_bound_directly_is_the_text_sqlalchemy_stores() -> None:
    from random import Random
    from zoneinfo import ZoneInfo

    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite.dialect()
    direct = UTCDateTime().direct_binder(dialect)
    assert direct is not None and UTCDateTime().direct_binder(postgresql.dialect()) is None
    sqlalchemys = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    draw, london = Random(16), ZoneInfo("Europe/London")
    instants = [AT, AT.replace(microsecond=0), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=london), None]
    instants += [datetime(2000, 1, 1, tzinfo=UTC).astimezone(london) + timedelta(seconds=draw.uniform(0, 1e9))
                 for _ in range(500)]
    assert [direct(at) for at in instants] == [sqlalchemys(at) for at in instants]
    with pytest.raises(ValueError, match="naive datetime"):
        direct(datetime(2026, 3, 30, 9, 15))
