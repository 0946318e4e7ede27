"""The reads and writes that open a ticket, each in one statement (issue 16: intake is the busiest write).

- `lock_council`: the council row under its lock (FOR UPDATE on PostgreSQL; SQLite's transactions hold the
  write lock from BEGIN IMMEDIATE) with its playbook's current version (its key only: not its source), read
  in one query.
- `write_council_head`: the council's next number and its chain's head, as moved in memory, in one UPDATE of
  those columns alone (an ORM flush compares and writes the row; this is the hottest write there is).
- `insert_ticket`: the ticket row, unless its Slack message has a ticket already. The unique constraint
  on the message answers that in the INSERT itself (ON CONFLICT DO NOTHING), instead of a SELECT before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, inspect, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from desk.db.tables import CouncilRow, PlaybookVersionRow, TicketRow
from desk.errors import NotFound

_TICKETS = TicketRow.__table__


def _lock_council_query():
    latest = aliased(PlaybookVersionRow)
    newest = (select(func.max(latest.version)).where(latest.playbook_id == CouncilRow.playbook_id)
              .correlate(CouncilRow).scalar_subquery())
    return (select(CouncilRow, PlaybookVersionRow.id, PlaybookVersionRow.version, PlaybookVersionRow.content_hash)
            .outerjoin(PlaybookVersionRow, and_(PlaybookVersionRow.playbook_id == CouncilRow.playbook_id,
                                                PlaybookVersionRow.version == newest))
            .where(CouncilRow.id == bindparam("council_id"))
            .with_for_update(of=CouncilRow)
            .execution_options(populate_existing=True))  # a row the session holds may be stale by now


# Built once: constructing these statements (and their cache keys) cost more than running them.
_LOCK_COUNCIL = _lock_council_query()
_INSERT_TICKET = {
    name: dialect.insert(_TICKETS)
    .on_conflict_do_nothing(index_elements=[_TICKETS.c.slack_channel, _TICKETS.c.slack_ts])
    .returning(_TICKETS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_COUNCILS = CouncilRow.__table__
_HEAD = ("next_number", "last_seq", "last_hash")
_WRITE_HEAD = (update(_COUNCILS).where(_COUNCILS.c.id == bindparam("council_id"))
               .values({name: bindparam(name) for name in _HEAD}))
_LOCKED = "desk.locked_councils"  # session.info
_COLUMNS = [column for column in _TICKETS.columns if column.name != "id"]


@dataclass(frozen=True)
class CurrentVersion:
    """What opening a ticket needs of its council's playbook's current version."""

    id: int
    version: int
    content_hash: str


def lock_council(session: Session, council_id: str) -> tuple[CouncilRow, CurrentVersion | None]:
    """The council, locked and read afresh, and its playbook's latest version (None: not synced)."""
    found = session.execute(_LOCK_COUNCIL, {"council_id": council_id}).first()
    if found is None:
        raise NotFound(f"no council {council_id!r} (is it in councils.yaml, and synced?)")
    # Held by the session while the lock is (the identity map keeps rows only while something does): later
    # reads of this council in the unit of work (`queries.get_council`) find it without a query.
    session.info.setdefault(_LOCKED, {})[council_id] = found[0]
    return found[0], (CurrentVersion(found[1], found[2], found[3]) if found[1] is not None else None)


def write_council_head(session: Session, council: CouncilRow) -> None:
    """Write the council's next number and chain head as they are in memory (the caller holds its lock), and
    make them the row's committed values: no flush writes them again."""
    with session.no_autoflush:
        session.execute(_WRITE_HEAD, {"council_id": council.id, **{name: getattr(council, name) for name in _HEAD}})
    for name in _HEAD:
        set_committed_value(council, name, getattr(council, name))
    state = inspect(council)
    if not state.committed_state:  # nothing else changed: the row is clean, as a flush would leave it (the
        state._commit_all(state.dict, session.identity_map)  # next flush then has no council to look at)


def insert_ticket(session: Session, ticket: TicketRow) -> bool:
    """Insert a new ticket and make it the session's (persistent, with its id); False, with nothing
    written, when a ticket already has its Slack message (`uq_ticket_slack_message`)."""
    statement = _INSERT_TICKET[session.get_bind().dialect.name]
    ticket_id = session.execute(statement, {c.name: getattr(ticket, c.key) for c in _COLUMNS}).scalar()
    if ticket_id is None:
        return False
    ticket.id = ticket_id
    make_transient_to_detached(ticket)  # as if loaded: the row holds exactly these values
    session.add(ticket)
    return True
