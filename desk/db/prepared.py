"""Core statements compiled once for SQLite and run on the connection's DBAPI cursor (issue 16: intake).

Opening a ticket is a handful of short statements, and on SQLite (in process, no round trip) SQLAlchemy's
execution of each cost more than SQLite's: the compiled-cache lookup, the execution context, the
parameters processed by name, the result wrapped. `Prepared` keeps what SQLAlchemy would have done and
drops the rest:

- the SQL is the statement's own, compiled by SQLAlchemy for the engine's dialect, once per set of
  columns given (an INSERT's VALUES follows the keys given, as `connection.execute` does);
- each parameter is bound as SQLAlchemy binds it (the column type's bind processor: instants as
  `UTCDateTime` stores them, to the character), and a parameter the statement carries itself (a literal
  bound inside it) takes its own value;
- what it returns (RETURNING, a SELECT) goes through the result processors of its columns;
- the engine's `before_cursor_execute` / `after_cursor_execute` listeners still see every statement
  (SQL counters in tests and benchmarks), with no execution context (None);
- an INSERT of several rows is one statement (`VALUES (...), (...)`), not an executemany.

Errors are SQLAlchemy's: a failure goes through the connection's own handling of DBAPI errors, so it comes
out as the `DBAPIError` subclass `connection.execute` would have raised (IntegrityError, OperationalError),
and the engine's `handle_error` listeners (desk.db.outage) are told, as they would have been.
On other databases `execute` is `connection.execute`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement

_Binder = tuple[str, Any, Callable[[Any], Any] | None]  # name, its own value, bind processor


class Compiled:
    """A statement's SQL for `rows` rows of the columns `keys`, and how to bind each row's values to it."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...], rows: int = 1):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        defaulted = [column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if defaulted:  # SQLAlchemy's execution would compute these; give them instead
            raise ValueError(f"no value given for {', '.join(sorted(defaulted))}, whose default is computed in "
                             f"Python: {compiled.string}")
        self.binders: list[_Binder] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if name not in keys and bind.required:
                raise ValueError(f"no value for the parameter {name!r} of {compiled.string}")
            direct = getattr(bind.type, "direct_binder", None)  # a type's own one-step binding (`UTCDateTime`)
            process = (direct and direct(dialect)) or bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.binders.append((name, bind.effective_value if name not in keys else None, process))
        sql = compiled.string
        if rows > 1:
            one = "(" + ", ".join("?" * len(self.binders)) + ")"
            head, values, tail = sql.partition(f" VALUES {one}")
            if not values:
                raise ValueError(f"not a one-row INSERT, cannot repeat its VALUES: {sql}")
            sql = f"{head} VALUES {', '.join([one] * rows)}{tail}"
        self.sql = sql
        returned = getattr(statement, "exported_columns", ())
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned]
        self.results = processors if any(processors) else None
        self.keys = set(keys)

    def parameters(self, rows: Iterable[Mapping[str, Any]]) -> list[Any]:
        """The statement's positional parameters for these rows, each value bound as SQLAlchemy binds it."""
        out = []
        for row in rows:
            for name, own, process in self.binders:
                value = row[name] if name in self.keys else own
                out.append(process(value) if process is not None else value)
        return out


class Prepared:
    """A Core statement (an INSERT, UPDATE or SELECT without expanding parameters), ready to run on SQLite's
    cursor. Thread-safe: compiled once per set of keys and number of rows."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[tuple[tuple[str, ...], int], Compiled] = {}
        self._lock = threading.Lock()

    def execute(self, connection: Connection, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[tuple]:
        """Run the statement with `values` (one row's parameters, or several rows' for one INSERT); the rows
        it returns, as tuples (empty when it returns none)."""
        rows = [values] if isinstance(values, Mapping) else list(values)
        if not rows:
            raise ValueError("no rows to run the statement with")
        if connection.dialect.name != "sqlite":
            result = connection.execute(self.statement, rows[0] if isinstance(values, Mapping) else rows)
            return [tuple(row) for row in result] if result.returns_rows else []
        compiled = self._compiled_for(connection, tuple(rows[0]), len(rows))
        parameters = compiled.parameters(rows)
        if not connection.in_transaction():
            connection.begin()  # as `connection.execute` begins one (desk's BEGIN IMMEDIATE on SQLite)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            return self._run(connection, cursor, compiled, parameters)
        finally:
            cursor.close()

    def _compiled_for(self, connection: Connection, keys: tuple[str, ...], rows: int) -> Compiled:
        found = self._compiled.get((keys, rows))
        if found is None:
            with self._lock:
                found = self._compiled.setdefault((keys, rows), Compiled(self.statement, connection.dialect,
                                                                               keys, rows))
        return found

    @staticmethod
    def _run(connection: Connection, cursor: sqlite3.Cursor, compiled: Compiled, parameters: list[Any]) -> list[tuple]:
        fetched = run_on_cursor(connection, cursor, compiled.sql, parameters)
        if compiled.results is None:
            return fetched
        processors = compiled.results
        return [tuple(value if process is None else process(value)
                      for value, process in zip(row, processors, strict=True)) for row in fetched]


def run_on_cursor(connection: Connection, cursor: sqlite3.Cursor, sql: str,
                  parameters: Sequence[Any] = ()) -> list[tuple]:
    """Run `sql` on the DBAPI `cursor` of `connection` as SQLAlchemy would: its `before_cursor_execute` and
    `after_cursor_execute` listeners told (with no execution context), and an error wrapped and handled by
    the connection (`handle_error` listeners). The rows it returns, as the driver gives them."""
    for listener in connection.dispatch.before_cursor_execute:
        sql, parameters = listener(connection, cursor, sql, parameters, None, False)
    try:
        cursor.execute(sql, parameters)
        fetched = cursor.fetchall() if cursor.description else []
    except Exception as err:  # as SQLAlchemy's own execution: wrapped, `handle_error` listeners told
        connection._handle_dbapi_exception(err, sql, parameters, cursor, None)
    for listener in connection.dispatch.after_cursor_execute:
        listener(connection, cursor, sql, parameters, None, False)
    return fetched
