"""The reads and writes that open a ticket, each in one statement (issue 16: intake is the busiest write).

All are Core statements built once and run on the session's connection (`connection_of`): SQLAlchemy's ORM
execution path cost more than the statements themselves, and nothing here is an ORM object until the
ticket is made one, as if loaded. On SQLite they run prepared (`desk.db.prepared`), on the connection's
cursor: there even Core's execution of a statement cost more than SQLite's.

- `lock_council`: the council's columns a ticket needs, under its lock (FOR UPDATE on PostgreSQL; SQLite's
  transactions hold the write lock from BEGIN IMMEDIATE), with its playbook's current version (its key
  only: not its source), in one query, as a plain `LockedCouncil` (no ORM row to load, track and flush).
- `write_council_head`: the council's next number and its chain's head, as moved in memory, in one UPDATE of
  those columns alone.
- `insert_ticket`: the ticket row, unless its Slack message has a ticket already. The unique constraint
  on the message answers that in the INSERT itself (ON CONFLICT DO NOTHING), instead of a SELECT before.
- `write_opened`: then the council's head, the `opened` event, the SLA clock rows and the search document:
  one statement each on SQLite; on PostgreSQL one statement for all four (data-modifying WITH clauses), as
  each is a round trip to the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import and_, bindparam, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from desk.db import queries, search_index
from desk.db.engine import connection_of
from desk.db.prepared import Prepared
from desk.db.tables import CouncilRow, PlaybookVersionRow, SlaClockRow, TicketEventRow, TicketRow
from desk.errors import NotFound

_TICKETS = TicketRow.__table__
_COUNCILS = CouncilRow.__table__
_VERSIONS = PlaybookVersionRow.__table__
_READ = ("id", "ref_prefix", "playbook_id", "division", "next_number", "last_seq", "last_hash")
_HEAD = ("next_number", "last_seq", "last_hash")
_LOCKED = "desk.locked_councils"  # session.info: {council id: (its transaction, LockedCouncil)}


def _lock_council_query():
    latest = _VERSIONS.alias("latest")
    newest = (select(func.max(latest.c.version)).where(latest.c.playbook_id == _COUNCILS.c.playbook_id)
              .correlate(_COUNCILS).scalar_subquery())
    return (select(*(_COUNCILS.c[name] for name in _READ), _VERSIONS.c.id, _VERSIONS.c.version,
                   _VERSIONS.c.content_hash)
            .select_from(_COUNCILS.outerjoin(_VERSIONS, and_(_VERSIONS.c.playbook_id == _COUNCILS.c.playbook_id,
                                                             _VERSIONS.c.version == newest)))
            .where(_COUNCILS.c.id == bindparam("council_id"))
            .with_for_update(of=_COUNCILS))


# Built once: constructing these statements (and their cache keys) cost more than running them. On SQLite
# they run prepared (desk/db/prepared.py): SQLAlchemy's execution of each cost more than SQLite's.
_LOCK_COUNCIL = Prepared(_lock_council_query())
_INSERT_TICKET = {
    name: Prepared(dialect.insert(_TICKETS)
                   .on_conflict_do_nothing(index_elements=[_TICKETS.c.slack_channel, _TICKETS.c.slack_ts])
                   .returning(_TICKETS.c.id))
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_WRITE_HEAD = Prepared(update(_COUNCILS).where(_COUNCILS.c.id == bindparam("council_id"))
                       .values({name: bindparam(name) for name in _HEAD}))


@dataclass
class LockedCouncil:
    """What opening a ticket reads of its council under the lock; it moves the number and the chain head
    in memory (`audit.chained_values`), and `write_council_head` writes them."""

    id: str
    ref_prefix: str
    playbook_id: str
    division: str | None
    next_number: int
    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class CurrentVersion:
    """What opening a ticket needs of its council's playbook's current version."""

    id: int
    version: int
    content_hash: str


def _held(session: Session, council_id: str) -> CouncilRow | None:
    """The council's ORM row, when this session holds one (its identity map)."""
    return session.identity_map.get((CouncilRow, (council_id,), None))  # type: ignore[return-value]


def lock_council(session: Session, council_id: str) -> tuple[LockedCouncil, CurrentVersion | None]:
    """The council, locked and read afresh, and its playbook's latest version (None: not synced)."""
    rows = _LOCK_COUNCIL.execute(connection_of(session), {"council_id": council_id})
    found = rows[0] if rows else None
    if found is None:
        raise NotFound(f"no council {council_id!r} (is it in councils.yaml, and synced?)")
    council = LockedCouncil(*found[:len(_READ)])
    if (held := _held(session, council_id)) is not None:  # a row loaded earlier may be stale by now
        for name in _READ:
            set_committed_value(held, name, getattr(council, name))
    session.info.setdefault(_LOCKED, {})[council_id] = (session.get_transaction(), council)
    key = found[len(_READ):]
    return council, (CurrentVersion(*key) if key[0] is not None else None)


def write_council_head(session: Session, council: LockedCouncil) -> None:
    """Write the council's next number and chain head as they are in memory (the caller holds its lock); an
    ORM row of the council this session holds gets them as committed values (no flush writes them again)."""
    _WRITE_HEAD.execute(connection_of(session), {"council_id": council.id,
                                                 **{name: getattr(council, name) for name in _HEAD}})
    _sync_held(session, council)


def _sync_held(session: Session, council: LockedCouncil) -> None:
    if (held := _held(session, council.id)) is not None:
        for name in _HEAD:
            set_committed_value(held, name, getattr(council, name))


def division(session: Session, council_id: str) -> str | None:
    """The council's division: as locked in this transaction (no query), else as `queries.get_council`."""
    locked = session.info.get(_LOCKED, {}).get(council_id)
    if locked is not None and locked[0] is session.get_transaction() and _held(session, council_id) is None:
        return locked[1].division
    return queries.get_council(session, council_id).division


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context: object, _instances: object) -> None:
    if _LOCKED in session.info and any(isinstance(row, CouncilRow) for row in (*session.new, *session.dirty)):
        session.info.pop(_LOCKED)  # the registry is being changed here: read the council again


def _defaults() -> dict[str, Any]:
    found = {}
    for name, field in TicketRow.model_fields.items():
        if name != "id" and field.default is not PydanticUndefined and field.default_factory is None:
            found[name] = field.default
    return found


_TICKET_DEFAULTS = _defaults()  # what `TicketRow(...)` fills in for a column not given
_TICKET_COLUMNS = frozenset(column.key for column in _TICKETS.columns)
_TICKET_CLASS = TicketRow._sa_class_manager  # type: ignore[attr-defined]


def insert_ticket(session: Session, **given: Any) -> TicketRow | None:
    """Insert a new ticket with these column values (the model's defaults for the others) and return it as
    the session's row (persistent, with its id, as if loaded); None, with nothing written, when a ticket
    already has its Slack message (`uq_ticket_slack_message`)."""
    if unknown := given.keys() - _TICKET_COLUMNS:
        raise TypeError(f"no ticket column {sorted(unknown)}")
    values = {**_TICKET_DEFAULTS, **given}
    statement = _INSERT_TICKET[session.get_bind().dialect.name]
    returned = statement.execute(connection_of(session), values)
    if not returned:
        return None
    ticket_id = returned[0][0]
    ticket = _TICKET_CLASS.new_instance()  # as a query loads a row: no model __init__, no attribute events
    ticket.__dict__.update(values, id=ticket_id)
    make_transient_to_detached(ticket)  # its identity, and every column's value as committed
    session.add(ticket)
    return ticket


_EVENTS = TicketEventRow.__table__
_CLOCKS = SlaClockRow.__table__
_INSERT_EVENT = Prepared(insert(_EVENTS))
_INSERT_CLOCKS = Prepared(insert(_CLOCKS))  # a ticket's clock rows in one statement
_INSERT_SEARCH = Prepared(search_index.INSERT_NEW_SQLITE)
_OPENED_POSTGRESQL: dict[int, Any] = {}  # by the number of clock rows; built on first use, then kept


def _row_of(table, prefix: str) -> dict[str, Any]:
    return {c.name: bindparam(f"{prefix}{c.name}", type_=c.type) for c in table.columns if c.name != "id"}


def _opened_postgresql(clocks: int):
    """The four writes of `write_opened` as one PostgreSQL statement, for `clocks` clock rows.

    With two clocks it takes 50 parameters: psycopg caches its parse of a statement of at most 50 (and 4,096
    characters), and parses a longer one again on every execution (about what a round trip costs here)."""
    head = (update(_COUNCILS).where(_COUNCILS.c.id == bindparam("head_council_id"))
            .values({name: bindparam(f"head_{name}", type_=_COUNCILS.c[name].type) for name in _HEAD}).cte("head"))
    event = insert(_EVENTS).values(_row_of(_EVENTS, "event_")).cte("opened_event")
    # one INSERT per clock row: SQLAlchemy does not cache a statement with a multi-row VALUES (it would
    # compile it anew on every execution, which costs more than the round trips this statement saves)
    rows = [insert(_CLOCKS).values(_row_of(_CLOCKS, f"clock{i}_")).cte(f"clock{i}") for i in range(clocks)]
    return search_index.postgresql_upsert().add_cte(head, event, *rows)


def write_opened(session: Session, council: LockedCouncil, event: dict[str, Any], clocks: list[dict[str, Any]],
                 document: dict[str, Any]) -> None:
    """After `insert_ticket`, the rest of a new ticket: the council's next number and chain head as moved in
    memory (`write_council_head`), its `opened` event's column values (`audit.chained_values`), its SLA
    clocks' rows, and its search document (`search_index.values_of`). Nothing reads them back as objects
    in this unit of work."""
    if session.get_bind().dialect.name != "postgresql":
        write_council_head(session, council)
        connection = connection_of(session)
        _INSERT_EVENT.execute(connection, event)
        if clocks:
            _INSERT_CLOCKS.execute(connection, clocks)
        _INSERT_SEARCH.execute(connection, document)
        return
    statement = _OPENED_POSTGRESQL.get(len(clocks))
    if statement is None:
        statement = _OPENED_POSTGRESQL.setdefault(len(clocks), _opened_postgresql(len(clocks)))
    values = {"head_council_id": council.id, **{f"head_{name}": getattr(council, name) for name in _HEAD},
              **{f"event_{name}": value for name, value in event.items()}, **document}
    for i, clock in enumerate(clocks):
        values.update((f"clock{i}_{name}", value) for name, value in clock.items())
    connection_of(session).execute(statement, values)
    _sync_held(session, council)
