"""Appending to and verifying each council's hash-chained event log."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.db.new_tickets import LockedCouncil
from desk.db.tables import CouncilRow, TicketEventRow, TicketRow
from desk.domain.audit import (
    CURRENT_VERSION,
    ChainedEvent,
    event_hash,
    first_break,
    first_unrecorded_redaction,
)

COUNCIL_DEACTIVATED = "council_deactivated"  # a council event: the registry dropped the council


def append_event(session: Session, *, council: CouncilRow, ticket: TicketRow, type: str, actor: str,
                 at: datetime, data: dict) -> TicketEventRow:
    """Append one event. The caller holds the council row's lock (see `queries.get_council(lock=True)`)."""
    assert ticket.id is not None, "flush the ticket first"
    return _append(session, council, ticket.id, ticket.ref, type, actor, at, data)


def append_council_event(session: Session, *, council: CouncilRow, type: str, actor: str, at: datetime,
                         data: dict) -> TicketEventRow:
    """Append an event about the council itself (no ticket: its `ticket_ref` is ""), on the same chain, so
    what changed a council's access (deactivation, its tokens revoked) is as tamper-evident as its tickets.
    The caller holds the council row's lock."""
    return _append(session, council, None, "", type, actor, at, data)


def _append(session: Session, council: CouncilRow, ticket_id: int | None, ticket_ref: str, type: str,
            actor: str, at: datetime, data: dict) -> TicketEventRow:
    row = TicketEventRow(**chained_values(council, ticket_id, ticket_ref, type, actor, at, data))
    session.add(row)
    session.add(council)
    return row


def chained_values(council: CouncilRow | LockedCouncil, ticket_id: int | None, ticket_ref: str, type: str, actor: str,
                   at: datetime, data: dict) -> dict:
    """The next event on the council's chain, as column values, and the council's head moved onto it (not
    yet added to a session): for a caller inserting many events at once. The caller holds the council row's
    lock and writes the values in the order they were made."""
    seq = council.last_seq + 1
    salt = secrets.token_hex(16)  # seals this event's words (domain/audit.py), erased if they are redacted
    digest = event_hash(council_id=council.id, seq=seq, ticket_ref=ticket_ref, type=type, actor=actor,
                        at=at, data=data, prev_hash=council.last_hash, version=CURRENT_VERSION, salt=salt)
    values = {"council_id": council.id, "seq": seq, "ticket_id": ticket_id, "ticket_ref": ticket_ref,
              "type": type, "actor": actor, "at": at, "data": data, "prev_hash": council.last_hash,
              "hash": digest, "hash_version": CURRENT_VERSION, "text_salt": salt}
    council.last_seq, council.last_hash = seq, digest
    return values


@dataclass(frozen=True)
class ChainReport:
    council_id: str
    events: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


Progress = Callable[[int], None]  # told how many more events were checked (a command draws a bar from it)
PROGRESS_EVERY = 1000  # events between two progress calls


def verify(session: Session, council_id: str, progress: Progress | None = None) -> ChainReport:
    council = queries.get_council(session, council_id)
    rows = queries.list_council_events(session, council_id)
    events = [chained(row) for row in rows]
    broken = first_break(_counted(events, progress) if progress else events)
    if broken is not None:
        return ChainReport(council_id, len(rows), *broken)
    last_seq = rows[-1].seq if rows else 0
    last_hash = rows[-1].hash if rows else council.last_hash
    if last_seq != council.last_seq or last_hash != council.last_hash:
        return ChainReport(council_id, len(rows), last_seq + 1,
                           f"the log ends at event {last_seq} but the council's head is event "
                           f"{council.last_seq} (events were removed)")
    unrecorded = first_unrecorded_redaction(events)  # trusted only now that the chain holds
    if unrecorded is not None:
        return ChainReport(council_id, len(rows), *unrecorded)
    return ChainReport(council_id, len(rows))


def chained(row: TicketEventRow) -> ChainedEvent:
    """A stored event as the hash chain sees it."""
    return ChainedEvent(row.council_id, row.seq, row.ticket_ref, row.type, row.actor, row.at, row.data,
                        row.prev_hash, row.hash, row.hash_version, row.text_salt)


def verify_all(session: Session, council_id: str | None = None,
               progress: Progress | None = None) -> list[ChainReport]:
    ids = [council_id] if council_id else [c.id for c in queries.list_councils(session)]
    return [verify(session, cid, progress) for cid in ids]


def events_to_verify(session: Session, council_id: str | None = None) -> int:
    """How many events `verify_all` checks: each chain's length as its council's head records it."""
    councils = [queries.get_council(session, council_id)] if council_id else queries.list_councils(session)
    return sum(c.last_seq for c in councils)


def _counted(events: Iterable[ChainedEvent], progress: Progress) -> Iterator[ChainedEvent]:
    """`events` as they are checked, telling `progress` every PROGRESS_EVERY and at the end."""
    pending = 0
    for event in events:
        yield event
        pending += 1
        if pending == PROGRESS_EVERY:
            progress(pending)
            pending = 0
    if pending:
        progress(pending)
