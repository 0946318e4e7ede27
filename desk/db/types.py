"""Column types that keep instants honest on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

# Instants a direct binder must store as SQLAlchemy does before it is used (`UTCDateTime.direct_binder`).
_SAMPLES = (datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC),
            datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=1))))


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant in, an aware UTC instant out.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is stored as naive UTC and
    the zone is put back on the way out. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: desk stores aware UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def direct_binder(self, dialect: Dialect) -> Callable[[datetime | None], str | None] | None:
        """On SQLite, the text SQLAlchemy stores for an instant, made in one step: its bind processing is
        this type's `process_bind_param` then SQLite's `DATETIME` formatting by a dict, about 2.5 us an
        instant, and a ticket binds about twenty (issue 16: `desk.db.prepared` uses this). None elsewhere,
        or if SQLAlchemy's text differs from this one's for any of a few instants (its storage format
        changed): then SQLAlchemy's own processing is used."""
        if dialect.name != "sqlite":
            return None
        stored = self.dialect_impl(dialect).bind_processor(dialect)
        if stored is None or any(stored(at) != _sqlite_text(at) for at in _SAMPLES):
            return None
        return _sqlite_text

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """`UTCDateTime`'s text on SQLite: naive UTC, always with microseconds (`YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: desk stores aware UTC instants only")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without its "+00:00"
