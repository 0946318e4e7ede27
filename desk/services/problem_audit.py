"""The problems' own hash-chained event log, and its verification (`desk audit verify` covers it).

Same recipe as a council's chain (desk/domain/audit.py), with `CHAIN` in the council's place and the
problem's ref in the ticket's: editing, deleting or reordering any problem event breaks the chain there.
The chain's head row is locked for every change to a problem, which also serialises them: take it FIRST,
before any council row (intake does the same), so two transactions never wait on each other in a circle.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from desk.db.tables import ProblemChainRow, ProblemEventRow
from desk.domain.audit import CURRENT_VERSION, ChainedEvent, event_hash, first_break
from desk.domain.problems import problem_ref
from desk.services.audit import ChainReport

CHAIN = "problems"  # the chain's name where a council's id would be, in hashes and in reports


def lock_chain(session: Session) -> ProblemChainRow:
    """The chain's head, locked until the caller's transaction ends (created on first use)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ProblemChainRow).values(id=1, last_seq=0, last_hash="0" * 64).on_conflict_do_nothing())
    head = session.exec(select(ProblemChainRow).where(ProblemChainRow.id == 1).with_for_update()).one()
    session.refresh(head)
    return head


def append(session: Session, head: ProblemChainRow, *, problem_id: int, type: str, actor: str, at: datetime,
           data: dict, key: str | None = None) -> ProblemEventRow:
    """Append one event; `head` comes from `lock_chain` in this transaction."""
    seq = head.last_seq + 1
    salt = secrets.token_hex(16)
    digest = event_hash(council_id=CHAIN, seq=seq, ticket_ref=problem_ref(problem_id), type=type, actor=actor,
                        at=at, data=data, prev_hash=head.last_hash, version=CURRENT_VERSION, salt=salt)
    row = ProblemEventRow(seq=seq, problem_id=problem_id, type=type, actor=actor, at=at, data=data,
                          prev_hash=head.last_hash, hash=digest, hash_version=CURRENT_VERSION, text_salt=salt,
                          idempotency_key=key)
    session.add(row)
    head.last_seq, head.last_hash = seq, digest
    session.add(head)
    session.flush()
    return row


def find_by_key(session: Session, key: str) -> ProblemEventRow | None:
    return session.exec(select(ProblemEventRow).where(ProblemEventRow.idempotency_key == key)).first()


def list_events(session: Session, problem_id: int | None = None) -> list[ProblemEventRow]:
    query = select(ProblemEventRow)
    if problem_id is not None:
        query = query.where(ProblemEventRow.problem_id == problem_id)
    return list(session.exec(query.order_by(ProblemEventRow.seq)).all())


def chained(row: ProblemEventRow) -> ChainedEvent:
    return ChainedEvent(CHAIN, row.seq, problem_ref(row.problem_id), row.type, row.actor, row.at, row.data,
                        row.prev_hash, row.hash, row.hash_version, row.text_salt)


def verify(session: Session) -> ChainReport:
    """The problems' chain checked like a council's: links, hashes, and its end against the head."""
    rows = list_events(session)
    broken = first_break(chained(row) for row in rows)
    if broken is not None:
        return ChainReport(CHAIN, len(rows), *broken)
    head = session.get(ProblemChainRow, 1)
    last_seq = rows[-1].seq if rows else 0
    last_hash = rows[-1].hash if rows else "0" * 64
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, "0" * 64)
    if (last_seq, last_hash) != (head_seq, head_hash):
        return ChainReport(CHAIN, len(rows), last_seq + 1,
                           f"the log ends at event {last_seq} but the chain's head is event {head_seq} "
                           "(events were removed)")
    return ChainReport(CHAIN, len(rows))
