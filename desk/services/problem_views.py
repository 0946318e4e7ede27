"""What people are shown about problems: plain values for Slack, the CLI, digests, reports and the API.

Two audiences, kept apart by type: `ProblemView` and `ProblemSummary` are for the support team (they name
every council); `KnownProblem`, `TicketProblem` and `ThreadPost` are safe for a ticket's own council (the
problem's summary, workaround, status and update texts, never another council or ticket). The title is
the support team's working name (it may name councils): council-facing views carry it only in
`KnownProblem`, for the support team's own screens, and builders for councils must not show it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import ProblemEventRow, ProblemLinkRow, ProblemRow, TicketRow
from desk.domain.problems import OPEN_PROBLEM_STATUSES, ProblemStatus, problem_ref
from desk.services.problem_links import get_problem
from desk.services.read_models import summarize


@dataclass(frozen=True)
class ProblemSummary:
    id: int
    ref: str
    title: str
    status: str
    status_label: str
    owner: str | None
    tickets: int  # linked now
    councils: int  # distinct councils among them
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    def as_json(self) -> dict:
        return {"id": self.id, "ref": self.ref, "title": self.title, "status": self.status, "owner": self.owner,
                "tickets": self.tickets, "councils": self.councils, "opened_at": _iso(self.opened_at),
                "updated_at": _iso(self.updated_at), "resolved_at": _iso(self.resolved_at)}


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    by: str
    status_from: str | None
    status_to: str


@dataclass(frozen=True)
class PublicUpdate:
    at: datetime
    by: str
    text: str


@dataclass(frozen=True)
class LinkedTicket:
    ref: str
    council_id: str
    title: str
    status: str
    priority: str
    how: str
    linked_at: datetime
    sla_state: str  # "respond breached", "resolve due …", "resolved (met)" …
    respond_due_at: datetime | None
    respond_met_at: datetime | None
    resolve_due_at: datetime | None
    breached: bool

    def as_json(self) -> dict:
        return {"ref": self.ref, "council": self.council_id, "title": self.title, "status": self.status,
                "priority": self.priority, "how": self.how, "linked_at": _iso(self.linked_at),
                "sla": {"state": self.sla_state, "respond_due_at": _iso(self.respond_due_at),
                        "respond_met_at": _iso(self.respond_met_at), "resolve_due_at": _iso(self.resolve_due_at),
                        "breached": self.breached}}


@dataclass(frozen=True)
class ProblemView:
    """Everything about one problem, for the support team only (it names every council)."""

    problem: ProblemSummary
    summary: str
    workaround: str | None
    match: tuple[str, ...]
    triage_rule: str | None
    category: str | None
    resolution_note: str | None
    history: tuple[StatusChange, ...]
    updates: tuple[PublicUpdate, ...]
    tickets_by_council: dict[str, list[LinkedTicket]]
    triage_channel: str | None
    triage_ts: str | None

    def as_json(self) -> dict:
        return {**self.problem.as_json(), "summary": self.summary, "workaround": self.workaround,
                "match": list(self.match), "triage_rule": self.triage_rule, "category": self.category,
                "resolution_note": self.resolution_note,
                "history": [{"at": _iso(h.at), "by": h.by, "from": h.status_from, "to": h.status_to}
                            for h in self.history],
                "updates": [{"at": _iso(u.at), "by": u.by, "text": u.text} for u in self.updates],
                "tickets_by_council": {council: [t.as_json() for t in linked]
                            for council, linked in self.tickets_by_council.items()}}


@dataclass(frozen=True)
class KnownProblem:
    """What a ticket's own council may read about the problem its ticket is linked to."""

    id: int
    ref: str
    title: str
    summary: str
    status: str
    status_label: str
    workaround: str | None
    latest_update: str | None  # the latest text posted to councils, or None before any

    @property
    def is_open(self) -> bool:
        return ProblemStatus(self.status).is_open


@dataclass(frozen=True)
class TicketProblem:
    """A ticket's problem as its council's report, export or API shows it: ref, summary, status (never the
    title: an engineer's working title may name councils; the summary is written for councils)."""

    ref: str
    summary: str
    status: str

    def as_json(self) -> dict:
        return {"ref": self.ref, "summary": self.summary, "status": self.status}


@dataclass(frozen=True)
class ThreadPost:
    """One problem update as posted in one ticket's council thread."""

    ref: str
    channel: str
    thread_ts: str | None
    problem_ref: str
    text: str


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _active_links(session: Session, problem_id: int | None = None) -> list[tuple[ProblemLinkRow, TicketRow]]:
    query = (select(ProblemLinkRow, TicketRow).join(TicketRow, col(ProblemLinkRow.ticket_id) == TicketRow.id)
             .where(col(ProblemLinkRow.unlinked_at).is_(None)))
    if problem_id is not None:
        query = query.where(ProblemLinkRow.problem_id == problem_id)
    return [(link, ticket) for link, ticket in session.exec(query.order_by(ProblemLinkRow.linked_at)).all()]


def summary_of(problem: ProblemRow, linked: list[TicketRow]) -> ProblemSummary:
    status = ProblemStatus(problem.status)
    return ProblemSummary(problem.id or 0, problem_ref(problem.id or 0), problem.title, str(status), status.label,
                          problem.owner, len(linked), len({t.council_id for t in linked}), problem.opened_at,
                          problem.updated_at, problem.resolved_at)


def list_problems(session: Session, *, open_only: bool = False) -> list[ProblemSummary]:
    """Newest first."""
    query = select(ProblemRow)
    if open_only:
        query = query.where(col(ProblemRow.status).in_([str(s) for s in OPEN_PROBLEM_STATUSES]))
    problems = session.exec(query.order_by(col(ProblemRow.id).desc())).all()
    linked: dict[int, list[TicketRow]] = defaultdict(list)
    for link, ticket in _active_links(session):
        linked[link.problem_id].append(ticket)
    return [summary_of(p, linked[p.id or 0]) for p in problems]


def open_problem_choices(session: Session) -> list[tuple[int, str]]:
    """(id, "PRB-3 title") of the open problems, newest first: the "Link to problem" choices."""
    return [(p.id, f"{p.ref} {p.title}") for p in list_problems(session, open_only=True)]


def _linked_ticket(session: Session, link: ProblemLinkRow, ticket: TicketRow, now: datetime) -> LinkedTicket:
    seen = summarize(session, ticket, now)
    if not seen.is_open:
        state = "resolved, " + ("breached" if seen.resolve.breached or seen.respond.breached else "met")
    elif seen.respond.breached or seen.resolve.breached:
        state = "breached (" + ("respond" if seen.respond.breached else "resolve") + ")"
    elif seen.resolve.paused:
        state = "paused (waiting on council)"
    else:
        state = "on track"
    return LinkedTicket(ticket.ref, ticket.council_id, ticket.title, ticket.status, ticket.priority, link.how,
                        link.linked_at, state, seen.respond.due_at, seen.respond.stopped_at, seen.resolve.due_at,
                        seen.respond.breached or seen.resolve.breached)


def problem_view(session: Session, problem_id: int | str, *, now: datetime) -> ProblemView:
    problem = get_problem(session, problem_id)
    links = _active_links(session, problem.id)
    events = session.exec(select(ProblemEventRow).where(ProblemEventRow.problem_id == problem.id)
                          .order_by(ProblemEventRow.seq)).all()
    history, updates = [], []
    for event in events:
        if event.type == "opened":
            history.append(StatusChange(event.at, event.actor, None, str(event.data.get("status"))))
        elif event.type == "resolved":
            history.append(StatusChange(event.at, event.actor, event.data.get("from"), "resolved"))
        elif isinstance(event.data.get("status"), dict):
            change = event.data["status"]
            history.append(StatusChange(event.at, event.actor, change.get("from"), change.get("to")))
        if event.type == "updated" and isinstance(event.data.get("text"), str):
            updates.append(PublicUpdate(event.at, event.actor, event.data["text"]))
    by_council: dict[str, list[LinkedTicket]] = defaultdict(list)
    for link, ticket in links:
        by_council[ticket.council_id].append(_linked_ticket(session, link, ticket, now))
    return ProblemView(summary_of(problem, [t for _, t in links]), problem.summary, problem.workaround,
                       tuple(problem.match), problem.triage_rule, problem.category, problem.resolution_note,
                       tuple(history), tuple(updates), dict(sorted(by_council.items())), problem.triage_channel,
                       problem.triage_ts)


def _latest_update(session: Session, problem_id: int) -> str | None:
    events = session.exec(select(ProblemEventRow).where(ProblemEventRow.problem_id == problem_id,
                                                        ProblemEventRow.type == "updated")
                          .order_by(col(ProblemEventRow.seq).desc())).all()
    return next((e.data["text"] for e in events if isinstance(e.data.get("text"), str)), None)


def _link_of(session: Session, ticket: TicketRow | str) -> tuple[TicketRow, ProblemRow] | None:
    found = queries.get_ticket(session, ticket) if isinstance(ticket, str) else ticket
    link = session.exec(select(ProblemLinkRow).where(ProblemLinkRow.ticket_id == found.id,
                                                     col(ProblemLinkRow.unlinked_at).is_(None))).first()
    problem = session.get(ProblemRow, link.problem_id) if link else None
    return (found, problem) if problem is not None else None


def known_problem_for(session: Session, ticket: TicketRow | str) -> KnownProblem | None:
    """The problem a ticket is linked to, as its own council may read it; None when it is not linked."""
    found = _link_of(session, ticket)
    if found is None:
        return None
    problem = found[1]
    status = ProblemStatus(problem.status)
    return KnownProblem(problem.id or 0, problem_ref(problem.id or 0), problem.title, problem.summary, str(status),
                        status.label, problem.workaround, _latest_update(session, problem.id or 0))


def problem_for_ticket(session: Session, ticket: TicketRow | str) -> TicketProblem | None:
    """The problem a ticket is linked to now: ref, title and status only (reports, exports, the API)."""
    found = _link_of(session, ticket)
    if found is None:
        return None
    problem = found[1]
    return TicketProblem(problem_ref(problem.id or 0), problem.summary, ProblemStatus(problem.status).label)


def thread_post(session: Session, payload: dict) -> ThreadPost:
    """What a `problem_post` outbox row says, read at send time from the ticket's `replied` event (the
    outbox keeps no copy of the words, so retention's redaction reaches them)."""
    ticket = queries.get_ticket(session, payload["ref"])
    assert ticket.id is not None and ticket.slack_channel is not None
    event = queries.find_ticket_event(session, ticket.id, int(payload["seq"]))
    text = event.data.get("text") if event is not None else None
    return ThreadPost(ticket.ref, ticket.slack_channel, ticket.slack_ts, problem_ref(int(payload["problem"])),
                      text if isinstance(text, str) else "(removed)")
