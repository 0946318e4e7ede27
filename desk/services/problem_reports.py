"""Problems in reports and digests: the managers' week of problems, a council's own, a ticket's problem.

A problem belongs to a week when it was open at some point in it (opened before the week ended, and not
resolved before it began). A ticket counts for a problem when it was linked during that time (linked
before the week ended, and not unlinked before it began). A council's digest lists only problems that
one of the council's own tickets was linked to, by ref, status and summary: never the title, another
council or another council's ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, bindparam
from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from desk.db.tables import ProblemLinkRow, ProblemRow, TicketRow
from desk.domain.problems import ProblemStatus, problem_ref


@dataclass(frozen=True)
class WeekProblem:
    """One problem in the managers' digest."""

    ref: str
    title: str
    status_label: str
    tickets: int  # linked during the week
    councils: tuple[str, ...]  # their councils' ids, sorted
    opened_at: datetime
    resolved_at: datetime | None
    time_to_resolve: timedelta | None  # opened to resolved, real time


@dataclass(frozen=True)
class CouncilProblem:
    """One problem in a council's digest: only what the council may read."""

    ref: str
    status_label: str
    summary: str


def _open_during(starts_at: object, ends_at: object) -> SelectOfScalar[ProblemRow]:
    """Problems open at some point in the week, by id (instants, or bound parameters for them)."""
    return (select(ProblemRow).where(col(ProblemRow.opened_at) <= ends_at)
            .where(or_(col(ProblemRow.resolved_at).is_(None), col(ProblemRow.resolved_at) > starts_at))
            .order_by(ProblemRow.id))


def _problems_in(session: Session, starts_at: datetime, ends_at: datetime) -> list[ProblemRow]:
    return list(session.exec(_open_during(starts_at, ends_at)).all())


def _linked_during(starts_at: object, ends_at: object) -> SelectOfScalar[int]:
    """Problem ids of links that held during the week (linked before it ended, not unlinked before it began)."""
    return (select(ProblemLinkRow.problem_id).where(col(ProblemLinkRow.linked_at) <= ends_at)
            .where(or_(col(ProblemLinkRow.unlinked_at).is_(None), col(ProblemLinkRow.unlinked_at) > starts_at)))


def _council_problems_query() -> Select:
    """`_open_during`, only the problems a ticket of council `council_id` was linked to in the week."""
    starts_at, ends_at = bindparam("starts_at"), bindparam("ends_at")
    own = _linked_during(starts_at, ends_at).where(col(ProblemLinkRow.ticket_id).in_(
        select(TicketRow.id).where(TicketRow.council_id == bindparam("council_id"))))
    return (_open_during(starts_at, ends_at).where(col(ProblemRow.id).in_(own))  # what a council may read
            .with_only_columns(ProblemRow.id, ProblemRow.status, ProblemRow.summary, ProblemRow.resolved_at))


_COUNCIL_PROBLEMS = _council_problems_query()  # built once: every council's digest runs it


def _links_in(session: Session, problem_id: int, starts_at: datetime, ends_at: datetime) -> list[TicketRow]:
    held = _linked_during(starts_at, ends_at).where(ProblemLinkRow.problem_id == problem_id)
    query = select(TicketRow).where(col(TicketRow.id).in_(held.with_only_columns(ProblemLinkRow.ticket_id)))
    return list(session.exec(query).all())


def week_problems(session: Session, starts_at: datetime, ends_at: datetime) -> tuple[WeekProblem, ...]:
    """Every problem open during the week (`starts_at` excluded, `ends_at` included, as digests count),
    with its tickets and councils then."""
    found = []
    for problem in _problems_in(session, starts_at, ends_at):
        linked = _links_in(session, problem.id or 0, starts_at, ends_at)
        resolved = _resolved_by(problem, ends_at)
        found.append(WeekProblem(
            problem_ref(problem.id or 0), problem.title, _status_at_end(problem, ends_at), len(linked),
            tuple(sorted({t.council_id for t in linked})), problem.opened_at, resolved,
            resolved - problem.opened_at if resolved else None))
    return tuple(found)


def _resolved_by(problem: ProblemRow | Row, ends_at: datetime) -> datetime | None:
    return problem.resolved_at if problem.resolved_at and problem.resolved_at <= ends_at else None


def _status_at_end(problem: ProblemRow | Row, ends_at: datetime) -> str:
    """Resolved if it was by the week's end; its stage while still open; "open" when it was resolved only
    later (its stage at the week's end is not kept apart from the event log)."""
    if _resolved_by(problem, ends_at):
        return ProblemStatus.RESOLVED.label
    status = ProblemStatus(problem.status)
    return status.label if status.is_open else "open"


def council_problems(session: Session, council_id: str, starts_at: datetime,
                     ends_at: datetime) -> tuple[CouncilProblem, ...]:
    """Problems one of this council's tickets was linked to during the week: one query, whatever the number
    of problems (it was one per problem open in the week, each reading every council's linked tickets)."""
    found = session.execute(_COUNCIL_PROBLEMS, {"council_id": council_id, "starts_at": starts_at,
                                                "ends_at": ends_at}).all()
    return tuple(CouncilProblem(problem_ref(problem.id or 0), _status_at_end(problem, ends_at), problem.summary)
                 for problem in found)


def problems_of_tickets(session: Session, ticket_ids: list[int], as_of: datetime) -> dict[int, str]:
    """ticket id → the ref of the problem it was linked to at `as_of` (the SLA report's instant)."""
    if not ticket_ids:
        return {}
    query = (select(ProblemLinkRow).where(col(ProblemLinkRow.ticket_id).in_(ticket_ids),
                                          col(ProblemLinkRow.linked_at) <= as_of)
             .where(or_(col(ProblemLinkRow.unlinked_at).is_(None), col(ProblemLinkRow.unlinked_at) > as_of)))
    return {link.ticket_id: problem_ref(link.problem_id) for link in session.exec(query).all()}
