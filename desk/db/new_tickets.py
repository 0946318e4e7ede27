"""The reads and writes that open a ticket, each in one statement (issue 16: intake is the busiest write).

- `lock_council`: the council row under its lock (FOR UPDATE on PostgreSQL; SQLite's transactions hold the
  write lock from BEGIN IMMEDIATE) with its playbook's current version, read in one query.
- `insert_ticket`: the ticket row, unless its Slack message has a ticket already. The unique constraint
  on the message answers that in the INSERT itself (ON CONFLICT DO NOTHING), instead of a SELECT before.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlmodel import Session, select

from desk.db.tables import CouncilRow, PlaybookVersionRow, TicketRow
from desk.errors import NotFound

_TICKETS = TicketRow.__table__


def _lock_council_query():
    latest = aliased(PlaybookVersionRow)
    newest = (select(func.max(latest.version)).where(latest.playbook_id == CouncilRow.playbook_id)
              .correlate(CouncilRow).scalar_subquery())
    return (select(CouncilRow, PlaybookVersionRow)
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
_LOCKED = "desk.locked_councils"  # session.info
_COLUMNS = [column for column in _TICKETS.columns if column.name != "id"]


def lock_council(session: Session, council_id: str) -> tuple[CouncilRow, PlaybookVersionRow | None]:
    """The council, locked and read afresh, and its playbook's latest version (None: not synced)."""
    found = session.execute(_LOCK_COUNCIL, {"council_id": council_id}).first()
    if found is None:
        raise NotFound(f"no council {council_id!r} (is it in councils.yaml, and synced?)")
    # Held by the session while the lock is (the identity map keeps rows only while something does): later
    # reads of this council in the unit of work (`queries.get_council`) find it without a query.
    session.info.setdefault(_LOCKED, {})[council_id] = found[0]
    return found[0], found[1]


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
