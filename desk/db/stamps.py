"""Version stamps of rarely changed configuration, and values cached process-wide under them.

Intake reads the registry (councils, the support block) and the open problems on every ticket, and they
change perhaps weekly (`desk playbooks sync`, possibly in another process; a problem command, possibly on
another replica). Each has a stamp in `config_stamp` that database triggers (migration 0017) set to a new
random value in the transaction of every change, whoever makes it. A `Stamped` cache keeps one value per
process with the stamp it was read at, and hands it out while the database says the same stamp.

Never stale: the stamps are read inside the unit of work (after SQLite's BEGIN IMMEDIATE; on PostgreSQL, in
a statement of the transaction), so a change committed before the unit of work began is seen by it; a cached
value was read after its stamp, in the same transaction. A unit of work reads the stamps once: in its
first statement when that statement can carry them (`returning_stamps`: the Slack delivery's INSERT), else
in one SELECT of their own (`current`). A flush of this session that changes what a stamp covers makes it
read them again (its own triggers have moved them).

Cached values must be immutable (frozen dataclasses, tuples, read-only mappings, text): gthread's threads
share them, and no ORM row may outlive its session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Generic, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from desk.db.tables import ConfigStampRow, CouncilRow, ProblemRow, SupportConfigRow

REGISTRY, PROBLEMS = "registry", "problems"
NAMES = (REGISTRY, PROBLEMS)
# What each row class changes, for this session's own flushes (the triggers cover everyone's commits)
_COUNCIL_SETTINGS = frozenset({"name", "ref_prefix", "playbook_id", "division", "slack", "digest", "retention",
                               "active"})
_NOTED = "desk.config_stamps"  # session.info: (the transaction they were read in, {name: stamp})

_STAMPS = ConfigStampRow.__table__


def _stamp_of(name: str):
    return select(_STAMPS.c.stamp).where(_STAMPS.c.name == name).scalar_subquery().label(f"stamp_{name}")


_READ = select(*(_stamp_of(name) for name in NAMES))  # built once


def returning_stamps(statement):
    """`statement` (an INSERT ... RETURNING) returning the stamps too, after its own columns: pass its
    result row to `note`."""
    return statement.returning(*(_stamp_of(name) for name in NAMES))


def note(session: Session, row: Sequence[object]) -> None:
    """The stamps a `returning_stamps` statement read (the last columns of its row), for this transaction."""
    _remember(session, dict(zip(NAMES, row[len(row) - len(NAMES):], strict=True)))


def _remember(session: Session, stamps: dict[str, str | None]) -> None:
    session.info[_NOTED] = (session.get_transaction(), MappingProxyType(stamps))


def current(session: Session) -> Mapping[str, str | None]:
    """The stamps as this transaction sees them: noted already, or read now (one statement)."""
    if _changes_covered(session):
        session.flush()  # its triggers move the stamps (and `_before_flush` forgets the noted ones)
    noted = session.info.get(_NOTED)
    if noted is not None and noted[0] is not None and noted[0] is session.get_transaction():
        return noted[1]
    row = session.execute(_READ).one()
    _remember(session, dict(zip(NAMES, row, strict=True)))
    return session.info[_NOTED][1]


def forget(session: Session) -> None:
    """This session changed what the stamps cover: read them again next time."""
    session.info.pop(_NOTED, None)


def _changes_covered(session: OrmSession) -> bool:
    """Whether this session holds changes, not flushed yet, to what a stamp covers."""
    for row in (*session.new, *session.deleted):
        if isinstance(row, CouncilRow | SupportConfigRow | ProblemRow):
            return True
    for row in session.dirty:
        if isinstance(row, SupportConfigRow | ProblemRow) or (
                isinstance(row, CouncilRow) and any(inspect(row).attrs[name].history.has_changes()
                                                    for name in _COUNCIL_SETTINGS)):
            return True
    return False


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context: object, _instances: object) -> None:
    if _NOTED in session.info and _changes_covered(session):
        forget(session)  # type: ignore[arg-type]


T = TypeVar("T")


class Stamped(Generic[T]):
    """One value per process, read by `load` and kept while the stamp `name` stays the same.

    Without a stamp (its row missing) nothing is kept: every call loads. Two threads that miss at once
    both load; the later store wins, and both values are right for their stamp."""

    def __init__(self, name: str) -> None:
        if name not in NAMES:
            raise ValueError(f"no stamp {name!r} (one of: {', '.join(NAMES)})")
        self.name = name
        self._kept: tuple[str, T] | None = None
        self._lock = threading.Lock()

    def get(self, session: Session, load: Callable[[Session], T]) -> T:
        stamp = current(session)[self.name]
        kept = self._kept
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        noted = session.info.get(_NOTED)
        value = load(session)
        if stamp is not None and session.info.get(_NOTED) is noted:  # not forgotten by a flush during `load`
            with self._lock:
                self._kept = (stamp, value)
        return value
