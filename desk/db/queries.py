"""Queries. `get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.

Every ticket query that a council-facing path uses takes the council: tenant isolation is a parameter,
not an afterthought.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desk.db.tables import (
    CouncilRow,
    PlaybookVersionRow,
    SlaClockRow,
    SupportConfigRow,
    TicketEventRow,
    TicketRatingRow,
    TicketRow,
)
from desk.errors import NotFound


def get_council(session: Session, council_id: str, *, lock: bool = False) -> CouncilRow:
    """The council row; `lock` takes it FOR UPDATE, which serialises refs and the event chain. Without
    `lock`, a row this session holds already is returned as it is (a query would not refresh it either)."""
    if not lock and (held := session.get(CouncilRow, council_id)) is not None:
        return held
    query = select(CouncilRow).where(CouncilRow.id == council_id)
    if lock:  # and re-read: a row loaded earlier in this unit of work (the directory) may be stale by now
        query = query.with_for_update().execution_options(populate_existing=True)
    council = session.exec(query).first()
    if council is None:
        raise NotFound(f"no council {council_id!r} (is it in councils.yaml, and synced?)")
    return council


def councils_by_id(session: Session, council_ids: Iterable[str]) -> dict[str, CouncilRow]:
    """Several councils in one query, by id (those that exist)."""
    return {c.id: c for c in session.exec(select(CouncilRow).where(col(CouncilRow.id).in_(set(council_ids)))).all()}


def list_councils(session: Session) -> Sequence[CouncilRow]:
    return session.exec(select(CouncilRow).order_by(CouncilRow.id)).all()


def find_current_playbook_version(session: Session, playbook_id: str) -> PlaybookVersionRow | None:
    return session.exec(
        select(PlaybookVersionRow)
        .where(PlaybookVersionRow.playbook_id == playbook_id)
        .order_by(col(PlaybookVersionRow.version).desc())
    ).first()


def find_current_playbook_key(session: Session, playbook_id: str) -> tuple[int, str] | None:
    """The current version's id and content hash, without its source (what a cached parse is keyed by)."""
    found = session.exec(
        select(PlaybookVersionRow.id, PlaybookVersionRow.content_hash)
        .where(PlaybookVersionRow.playbook_id == playbook_id)
        .order_by(col(PlaybookVersionRow.version).desc())
    ).first()
    return (found[0], found[1]) if found is not None and found[0] is not None else None


def get_playbook_version(session: Session, version_id: int) -> PlaybookVersionRow:
    row = session.get(PlaybookVersionRow, version_id)
    if row is None:
        raise NotFound(f"no playbook version {version_id}")
    return row


def get_playbook_version_hash(session: Session, version_id: int) -> str:
    content_hash = session.exec(
        select(PlaybookVersionRow.content_hash).where(PlaybookVersionRow.id == version_id)).first()
    if content_hash is None:
        raise NotFound(f"no playbook version {version_id}")
    return content_hash


def list_playbook_versions(session: Session) -> Sequence[PlaybookVersionRow]:
    return session.exec(
        select(PlaybookVersionRow).order_by(PlaybookVersionRow.playbook_id, PlaybookVersionRow.version)
    ).all()


# The lookups every listener makes, built once with their values as parameters: a statement built per call
# cost SQLAlchemy about as much to build and key for its compiled cache (about 60 us) as the rest of the
# lookup, and a new ticket's announcement reads its ticket several times.
_TICKET_BY_REF = select(TicketRow).where(TicketRow.ref == bindparam("ref"))
_TICKET_BY_REF_IN_COUNCIL = _TICKET_BY_REF.where(TicketRow.council_id == bindparam("council_id"))
_TICKET_BY_MESSAGE = select(TicketRow).where(TicketRow.slack_channel == bindparam("channel"),
                                             TicketRow.slack_ts == bindparam("ts"))
_LATEST_EVENT_SEQ = select(func.max(TicketEventRow.seq)).where(TicketEventRow.ticket_id == bindparam("ticket_id"))


def find_ticket(session: Session, ref: str, *, council_id: str | None = None) -> TicketRow | None:
    if council_id is None:
        return session.exec(_TICKET_BY_REF, params={"ref": ref.upper()}).first()
    return session.exec(_TICKET_BY_REF_IN_COUNCIL, params={"ref": ref.upper(), "council_id": council_id}).first()


def tickets_by_ref(session: Session, refs: Iterable[str]) -> dict[str, TicketRow]:
    """Several tickets in one query, by ref (those that exist)."""
    wanted = {ref.upper() for ref in refs}
    return {t.ref: t for t in session.exec(select(TicketRow).where(col(TicketRow.ref).in_(wanted))).all()}


def get_ticket(session: Session, ref: str, *, council_id: str | None = None) -> TicketRow:
    ticket = find_ticket(session, ref, council_id=council_id)
    if ticket is None:
        raise NotFound(f"no ticket {ref}")
    return ticket


def find_ticket_by_message(session: Session, channel: str, ts: str) -> TicketRow | None:
    return session.exec(_TICKET_BY_MESSAGE, params={"channel": channel, "ts": ts}).first()


def list_follow_ups(session: Session, ticket_id: int) -> Sequence[TicketRow]:
    """Tickets opened as follow-ups of this one, oldest first."""
    return list_follow_ups_of(session, [ticket_id])


def list_follow_ups_of(session: Session, ticket_ids: Sequence[int]) -> Sequence[TicketRow]:
    """Tickets opened as follow-ups of any of these, oldest first."""
    return session.exec(select(TicketRow).where(col(TicketRow.follow_up_of).in_(ticket_ids))
                        .order_by(TicketRow.number)).all()


def refs_of(session: Session, ticket_ids: Iterable[int]) -> dict[int, str]:
    """Tickets' refs by id (those that exist)."""
    return dict(session.exec(select(TicketRow.id, TicketRow.ref).where(col(TicketRow.id).in_(list(ticket_ids)))).all())


def find_ticket_by_card(session: Session, channel: str, ts: str) -> TicketRow | None:
    return session.exec(select(TicketRow).where(TicketRow.card_ts == ts, TicketRow.card_channel == channel)).first()


def list_tickets(session: Session, *, council_id: str | None = None, status: str | None = None,
                 statuses: tuple[str, ...] | None = None, assignee: str | None = None,
                 unassigned: bool = False, limit: int | None = None) -> Sequence[TicketRow]:
    query = select(TicketRow)
    if council_id is not None:
        query = query.where(TicketRow.council_id == council_id)
    if status is not None:
        query = query.where(TicketRow.status == status)
    if statuses is not None:
        query = query.where(col(TicketRow.status).in_(statuses))
    if assignee is not None:
        query = query.where(TicketRow.assignee == assignee)
    if unassigned:
        query = query.where(col(TicketRow.assignee).is_(None))
    query = query.order_by(TicketRow.council_id, TicketRow.number)
    if limit is not None:
        query = query.limit(limit)
    return session.exec(query).all()


def list_ticket_events(session: Session, ticket_id: int,
                       types: tuple[str, ...] | None = None) -> Sequence[TicketEventRow]:
    return list_events_of(session, [ticket_id], types=types)


def list_events_of(session: Session, ticket_ids: Sequence[int],
                   types: tuple[str, ...] | None = None) -> Sequence[TicketEventRow]:
    """Several tickets' events, oldest first (in chain order)."""
    query = select(TicketEventRow).where(col(TicketEventRow.ticket_id).in_(ticket_ids))
    if types is not None:
        query = query.where(col(TicketEventRow.type).in_(types))
    return session.exec(query.order_by(TicketEventRow.seq)).all()


def latest_event_seq(session: Session, ticket_id: int) -> int:
    return session.exec(_LATEST_EVENT_SEQ, params={"ticket_id": ticket_id}).one() or 0


def list_council_events(session: Session, council_id: str) -> Sequence[TicketEventRow]:
    return session.exec(
        select(TicketEventRow).where(TicketEventRow.council_id == council_id).order_by(TicketEventRow.seq)
    ).all()


def list_sla_clocks(session: Session, ticket_id: int) -> Sequence[SlaClockRow]:
    return list_sla_clocks_of(session, [ticket_id])


def list_sla_clocks_of(session: Session, ticket_ids: Sequence[int], *, plain: bool = False) -> Sequence[SlaClockRow]:
    """Several tickets' clocks; each ticket's respond first, then its resolve cycles. `plain`: as Core rows
    with the same columns (no objects built nor tracked by the session), for a read that only works SLAs
    out and writes nothing back (the dispatcher checking a window of notifications)."""
    query = sa_select(*SlaClockRow.__table__.c) if plain else select(SlaClockRow)
    return session.exec(  # type: ignore[call-overload]  # a plain read is a Core select
        query.where(col(SlaClockRow.ticket_id).in_(ticket_ids))
        .order_by(SlaClockRow.ticket_id, col(SlaClockRow.metric).desc(), SlaClockRow.cycle)
    ).all()


def find_support_config(session: Session) -> SupportConfigRow | None:
    return session.get(SupportConfigRow, 1)


_SUPPORT_DEFINITION = select(SupportConfigRow.definition).where(SupportConfigRow.id == 1)


def find_support_definition(session: Session) -> dict | None:
    """The registry's `support:` block alone (no row object: intake reads it on every ticket)."""
    return session.exec(_SUPPORT_DEFINITION).first()


def list_ratings_of(session: Session, ticket_ids: Sequence[int]) -> Sequence[TicketRatingRow]:
    return session.exec(select(TicketRatingRow).where(col(TicketRatingRow.ticket_id).in_(ticket_ids))
                        .order_by(TicketRatingRow.id)).all()


def find_rating(session: Session, ticket_id: int, cycle: int) -> TicketRatingRow | None:
    return session.exec(
        select(TicketRatingRow).where(TicketRatingRow.ticket_id == ticket_id, TicketRatingRow.cycle == cycle)
    ).first()


def _open_by_due(*, running_only: bool, council_id: str | None, status: str | None, assignee: str | None,
                 unassigned: bool):
    """Open tickets with the instant their next running target falls due (None: nothing running)."""
    soonest = (
        select(SlaClockRow.ticket_id, func.min(SlaClockRow.due_at).label("due_at"))
        .where(col(SlaClockRow.stopped_at).is_(None), col(SlaClockRow.due_at).is_not(None))
        .group_by(SlaClockRow.ticket_id)
        .subquery()
    )
    join = soonest.c.ticket_id == TicketRow.id
    query = (select(TicketRow).join(soonest, join) if running_only
             else select(TicketRow).outerjoin(soonest, join))
    query = query.where(col(TicketRow.status).in_(("new", "in_progress", "waiting_on_council")))
    if council_id is not None:
        query = query.where(TicketRow.council_id == council_id)
    if status is not None:
        query = query.where(TicketRow.status == status)
    if assignee is not None:
        query = query.where(TicketRow.assignee == assignee)
    if unassigned:
        query = query.where(col(TicketRow.assignee).is_(None))
    return query, soonest.c.due_at


def list_open_tickets_by_due(session: Session, *, limit: int | None, running_only: bool = True,
                             council_id: str | None = None, status: str | None = None,
                             assignee: str | None = None, unassigned: bool = False) -> Sequence[TicketRow]:
    """Open tickets, the one whose next running target is soonest first (so breached ones lead), sorted
    before the list is cut; tickets with nothing running (waiting, responded) last, oldest first.
    `running_only`: only tickets with a target running (the 'breaching soon' queue)."""
    query, due_at = _open_by_due(running_only=running_only, council_id=council_id, status=status,
                                 assignee=assignee, unassigned=unassigned)
    query = query.order_by(due_at.is_(None), due_at, TicketRow.opened_at, TicketRow.id)
    if limit is not None:
        query = query.limit(limit)
    return session.exec(query).all()


def count_open_tickets(session: Session, *, running_only: bool = False, council_id: str | None = None,
                       status: str | None = None, assignee: str | None = None, unassigned: bool = False) -> int:
    query, _ = _open_by_due(running_only=running_only, council_id=council_id, status=status,
                            assignee=assignee, unassigned=unassigned)
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def find_ticket_event(session: Session, ticket_id: int, seq: int) -> TicketEventRow | None:
    return session.exec(
        select(TicketEventRow).where(TicketEventRow.ticket_id == ticket_id, TicketEventRow.seq == seq)
    ).first()
