"""Linking tickets to problems (by hand, from the ticket a problem started from, at intake), and the
lookups every problem use case shares. Re-exported by `desk.services.problems`.

A link or an unlink is an event on the problems' chain and on the ticket's own council chain (the problem's
ref only). Lock order: the problems' chain head first (`locked`, `intake_rules`), then the council row.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from desk.db import queries, stamps
from desk.db.tables import ProblemChainRow, ProblemLinkRow, ProblemRow, TicketRow
from desk.domain import problems as rules
from desk.domain.problems import LinkHow, ProblemStatus, problem_ref
from desk.errors import InvalidInput, NotFound
from desk.services import audit, problem_audit


def get_problem(session: Session, problem_id: int | str) -> ProblemRow:
    """A problem by id or ref (`PRB-3`); `NotFound` names what was asked for."""
    number = rules.parse_ref(problem_id)
    problem = session.get(ProblemRow, number) if number else None
    if problem is None:
        raise NotFound(f"no problem {problem_id!r}")
    return problem


def locked(session: Session, problem_id: int | str) -> tuple[ProblemChainRow, ProblemRow]:
    """The chain head, locked, and the problem re-read under the lock."""
    head = problem_audit.lock_chain(session)
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    return head, problem


def ticket_of(session: Session, ticket: str | TicketRow) -> TicketRow:
    return queries.get_ticket(session, ticket) if isinstance(ticket, str) else ticket


def require_open(problem: ProblemRow) -> ProblemStatus:
    status = ProblemStatus(problem.status)
    if not status.is_open:
        raise InvalidInput(f"{problem_ref(problem.id or 0)} is resolved: open a new problem if it is back")
    return status


def linked_tickets(session: Session, problem_id: int) -> list[TicketRow]:
    """The tickets linked now, oldest link first."""
    query = (select(TicketRow).join(ProblemLinkRow, col(ProblemLinkRow.ticket_id) == TicketRow.id)
             .where(ProblemLinkRow.problem_id == problem_id, col(ProblemLinkRow.unlinked_at).is_(None))
             .order_by(ProblemLinkRow.linked_at, ProblemLinkRow.id))
    return list(session.exec(query).all())


def active_link(session: Session, ticket_id: int) -> ProblemLinkRow | None:
    return session.exec(select(ProblemLinkRow).where(ProblemLinkRow.ticket_id == ticket_id,
                                                     col(ProblemLinkRow.unlinked_at).is_(None))).first()


def link(session: Session, problem_id: int | str, ticket: str | TicketRow, *, by: str, now: datetime,
         how: str = "manual") -> bool:
    """Link a ticket to an open problem; False if it already was. A ticket belongs to one problem at a
    time: one linked elsewhere is refused, naming the other problem."""
    try:
        how = LinkHow(how)
    except ValueError:
        raise InvalidInput(f"{how!r} is not a way of linking (one of: {', '.join(LinkHow)})") from None
    head, problem = locked(session, problem_id)
    require_open(problem)
    return link_locked(session, head, problem, ticket_of(session, ticket), by=by, now=now, how=how)


def link_locked(session: Session, head: ProblemChainRow, problem: ProblemRow, ticket: TicketRow, *, by: str,
                now: datetime, how: LinkHow) -> bool:
    """`link` once the chain head is locked (`head`) and the problem read under it."""
    assert ticket.id is not None and problem.id is not None
    existing = active_link(session, ticket.id)
    if existing is not None:
        if existing.problem_id == problem.id:
            return False
        raise InvalidInput(f"{ticket.ref} is linked to {problem_ref(existing.problem_id)}: unlink it first")
    row = session.exec(select(ProblemLinkRow).where(ProblemLinkRow.problem_id == problem.id,
                                                    ProblemLinkRow.ticket_id == ticket.id)).first()
    if row is None:
        row = ProblemLinkRow(problem_id=problem.id, ticket_id=ticket.id, how=str(how), linked_by=by, linked_at=now)
    else:
        row.how, row.linked_by, row.linked_at, row.unlinked_by, row.unlinked_at = str(how), by, now, None, None
    session.add(row)
    problem_audit.append(session, head, problem_id=problem.id, type="linked", actor=by, at=now,
                         data={"ticket": ticket.ref, "council": ticket.council_id, "how": str(how)})
    council_event(session, ticket, "problem_linked", by, now, problem=problem_ref(problem.id), how=str(how))
    return True


def unlink(session: Session, problem_id: int | str, ticket: str | TicketRow, *, by: str, now: datetime) -> bool:
    """Unlink a ticket (it then stays open when the problem is resolved); False if it was not linked."""
    head, problem = locked(session, problem_id)
    found = ticket_of(session, ticket)
    assert found.id is not None and problem.id is not None
    row = active_link(session, found.id)
    if row is None or row.problem_id != problem.id:
        return False
    row.unlinked_by, row.unlinked_at = by, now
    session.add(row)
    problem_audit.append(session, head, problem_id=problem.id, type="unlinked", actor=by, at=now,
                         data={"ticket": found.ref, "council": found.council_id})
    council_event(session, found, "problem_unlinked", by, now, problem=problem_ref(problem.id))
    return True


def council_event(session: Session, ticket: TicketRow, type: str, by: str, now: datetime, **data: str) -> None:
    """On the ticket's own council chain: the problem's ref only (its title may name other councils)."""
    council = queries.get_council(session, ticket.council_id, lock=True)
    audit.append_event(session, council=council, ticket=ticket, type=type, actor=by, at=now, data=data)
    session.flush()


def intake_rules(session: Session) -> list[rules.MatchRule]:
    """Open problems that may take a new ticket, newest activity first. When there are any, the chain
    head is locked first, before intake locks the council (the order every problem change uses).

    Read once per process while the problems' stamp stays (desk/db/stamps.py): every problem change, on
    any replica, moves it."""
    candidates = _OPEN_RULES.get(session, _read_intake_rules)
    if not candidates:
        return []
    problem_audit.lock_chain(session)
    return list(candidates)


def _read_intake_rules(session: Session) -> tuple[rules.MatchRule, ...]:
    query = select(ProblemRow).where(col(ProblemRow.status).in_([str(s) for s in rules.OPEN_PROBLEM_STATUSES]))
    candidates = [p for p in session.exec(query).all() if p.match]
    candidates.sort(key=lambda p: (p.updated_at, p.id or 0), reverse=True)
    return tuple(rules.MatchRule(p.id or 0, tuple(p.match), p.triage_rule, p.category) for p in candidates)


_OPEN_RULES: stamps.Stamped[tuple[rules.MatchRule, ...]] = stamps.Stamped(stamps.PROBLEMS)


def auto_link(session: Session, ticket: TicketRow, candidates: list[rules.MatchRule], *, now: datetime) -> int | None:
    """Link a new ticket to the open problem it matches (`intake_rules`, taken before the ticket was
    opened); the problem's id, or None."""
    if not candidates:
        return None
    found = rules.first_match(candidates, rules.NewTicket(f"{ticket.title}\n{ticket.description}",
                                                          ticket.triage_rule, ticket.category))
    if found is None:
        return None
    head, problem = locked(session, found)
    link_locked(session, head, problem, ticket, by="desk", now=now, how=LinkHow.AUTO)
    return found
