"""Problem use cases: open, update (told to every linked council), link, unlink, resolve together.

Rules in desk/domain/problems.py; reads in desk/services/problem_views.py (re-exported here so callers
need one import). Every change locks the problems' chain head first (`problem_audit.lock_chain`), then any
council row, appends to the problems' chain, and flushes; the caller commits.

Councils never learn of each other through a problem: an update reaches each linked ticket's own thread
as that ticket's public reply (one outbox row per update × ticket, `problem_post:{problem}:{seq}:{ref}`),
and a link or unlink is recorded on the ticket's own council chain with the problem's ref only.

Idempotency: `update_problem` and `resolve_problem` take a key (Slack's action or view id): a repeat finds
the event the first one wrote and returns the same result. `link` and `unlink` are idempotent by state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import OutboxRow, ProblemLinkRow, ProblemRow, TicketRow
from desk.domain import problems as rules
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.problems import LinkHow, ProblemStatus, problem_ref
from desk.errors import InvalidInput, InvalidTransition, NotFound
from desk.services import audit, problem_audit, tickets
from desk.services.problem_views import (  # noqa: F401  (the one import callers need)
    KnownProblem,
    LinkedTicket,
    ProblemSummary,
    ProblemView,
    ThreadPost,
    known_problem_for,
    list_problems,
    open_problem_choices,
    problem_for_ticket,
    problem_view,
    thread_post,
)

POST_KIND = "problem_post"  # one problem update in one linked ticket's council thread
TITLE_MAX = 200


@dataclass(frozen=True)
class UpdateResult:
    problem: ProblemRow
    seq: int  # the problem event this update wrote (or found, when repeated)
    posted_to: list[str] = field(default_factory=list)  # refs of the tickets whose threads get the text
    repeated: bool = False


def get_problem(session: Session, problem_id: int | str) -> ProblemRow:
    """A problem by id or ref (`PRB-3`); `NotFound` names what was asked for."""
    number = rules.parse_ref(problem_id)
    problem = session.get(ProblemRow, number) if number else None
    if problem is None:
        raise NotFound(f"no problem {problem_id!r}")
    return problem


def _locked(session: Session, problem_id: int | str):
    head = problem_audit.lock_chain(session)
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    return head, problem


def _ticket(session: Session, ticket: str | TicketRow) -> TicketRow:
    return queries.get_ticket(session, ticket) if isinstance(ticket, str) else ticket


def _require_open(problem: ProblemRow) -> ProblemStatus:
    status = ProblemStatus(problem.status)
    if not status.is_open:
        raise InvalidInput(f"{problem_ref(problem.id or 0)} is resolved: open a new problem if it is back")
    return status


def _text(value: str | None, what: str, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    if limit and len(value) > limit:
        raise InvalidInput(f"{what} is at most {limit} characters")
    return value


def _phrases(match: Iterable[str]) -> list[str]:
    if isinstance(match, str):
        match = match.split(",")
    try:
        return list(rules.clean_phrases(match))
    except ValueError as err:
        raise InvalidInput(str(err)) from None


def open_problem(session: Session, *, title: str, summary: str, owner: str | None, by: str, now: datetime,
                 from_ticket: str | TicketRow | None = None, match: Iterable[str] = (),
                 key: str | None = None) -> ProblemRow:
    """Open a problem (investigating). From a ticket: linked at once, and intake matches the ticket's
    triage rule or category from then on (with the `match` phrases)."""
    title, summary = _text(title, "a title", TITLE_MAX), (summary or "").strip()
    phrases = _phrases(match)
    head = problem_audit.lock_chain(session)
    if key and (seen := problem_audit.find_by_key(session, key)) is not None:
        return get_problem(session, seen.problem_id)
    origin = _ticket(session, from_ticket) if from_ticket is not None else None
    problem = ProblemRow(title=title, summary=summary, status=str(ProblemStatus.INVESTIGATING), owner=owner,
                         match=phrases, triage_rule=origin.triage_rule if origin else None,
                         category=origin.category if origin else None,
                         from_ticket_id=origin.id if origin else None, opened_by=by, opened_at=now,
                         updated_at=now)
    session.add(problem)
    session.flush()
    assert problem.id is not None
    problem_audit.append(session, head, problem_id=problem.id, type="opened", actor=by, at=now, key=key,
                         data={"title": title, "summary": summary, "owner": owner, "match": phrases,
                               "status": problem.status, "from_ticket": origin.ref if origin else None})
    if origin is not None:
        _link(session, head, problem, origin, by=by, now=now, how=LinkHow.ORIGIN)
    return problem


def update_problem(session: Session, problem_id: int | str, *, by: str, now: datetime, key: str,
                   status: str | None = None, summary: str | None = None, workaround: str | None = None,
                   owner: str | None = None, match: Iterable[str] | None = None, title: str | None = None,
                   public_text: str | None = None) -> UpdateResult:
    """Change a problem and tell every linked open ticket's council what it should hear.

    `public_text`, a new or changed workaround, or a status change is posted in each linked open ticket's
    council thread (through the outbox) and counts there as support's public reply. Owner, title, summary
    and match changes are silent. A repeat with the same `key` returns the first result."""
    key = _text(key, "an idempotency key")
    head = problem_audit.lock_chain(session)
    if (seen := problem_audit.find_by_key(session, key)) is not None:
        return UpdateResult(get_problem(session, seen.problem_id), seen.seq, list(seen.data.get("posted_to", [])),
                            repeated=True)
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    current = _require_open(problem)
    changes: dict = {}
    wanted = _status(status) if status else None
    if wanted is ProblemStatus.RESOLVED:
        raise InvalidInput("resolve a problem with its resolution note (it resolves its tickets too)")
    if workaround is not None and workaround.strip() != (problem.workaround or ""):
        problem.workaround = workaround.strip() or None
        changes["workaround"] = problem.workaround
        if problem.workaround:
            wanted = rules.status_after_workaround(current, wanted)
    if wanted is not None and wanted is not current:
        if not rules.can_move(current, wanted):
            raise InvalidTransition(problem_ref(problem.id or 0), current.label, wanted.label)
        if wanted is ProblemStatus.KNOWN_ERROR and not problem.workaround:
            raise InvalidInput("a known error has a workaround: give it in the same update")
        problem.status = str(wanted)
        changes["status"] = {"from": str(current), "to": str(wanted)}
    for name, value in (("summary", summary), ("owner", owner), ("title", title)):
        if value is not None and value.strip() != (getattr(problem, name) or ""):
            if name == "title":
                value = _text(value, "a title", TITLE_MAX)
            setattr(problem, name, value.strip() or None if name == "owner" else value.strip())
            changes[name] = getattr(problem, name)
    if match is not None and (phrases := _phrases(match)) != list(problem.match):
        problem.match = changes["match"] = phrases
    text = rules.public_text(text=public_text, workaround=changes.get("workaround"),
                             status=wanted if "status" in changes else None)
    if not changes and text is None:
        raise InvalidInput("nothing to update: give a status, an update for councils, a workaround or a change")
    problem.updated_at = now
    session.add(problem)
    posted_to = _fan_out(session, problem, text, by=by, now=now) if text else []
    data = {**changes, "posted_to": posted_to, **({"text": text} if text else {})}
    event = problem_audit.append(session, head, problem_id=problem.id or 0, type="updated", actor=by, at=now,
                                 data=data, key=key)
    return UpdateResult(problem, event.seq, posted_to)


def _status(value: str) -> ProblemStatus:
    try:
        return ProblemStatus(value.strip().lower().replace(" ", "_"))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a problem status (one of: "
                           f"{', '.join(s.label for s in ProblemStatus)})") from None


def _fan_out(session: Session, problem: ProblemRow, text: str, *, by: str, now: datetime) -> list[str]:
    """The text as each linked open ticket's public reply, and one outbox row per ticket to post it."""
    posted = []
    for ticket in linked_tickets(session, problem.id or 0):
        if ticket.status not in OPEN_STATUSES or ticket.slack_channel is None:
            continue  # closed for talk, or no council conversation to post in
        tickets.reply(session, ref=ticket.ref, text=text, actor=by, at=now, problem=problem_ref(problem.id or 0))
        assert ticket.id is not None
        replied = queries.list_ticket_events(session, ticket.id, types=("replied",))[-1]
        session.add(OutboxRow(idempotency_key=f"{POST_KIND}:{problem.id}:{replied.seq}:{ticket.ref}",
                              kind=POST_KIND, council_id=ticket.council_id, ticket_id=ticket.id,
                              target=ticket.slack_channel, created_at=now, available_at=now,
                              payload={"ref": ticket.ref, "seq": replied.seq, "problem": problem.id}))
        posted.append(ticket.ref)
    session.flush()
    return posted


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
    head, problem = _locked(session, problem_id)
    _require_open(problem)
    return _link(session, head, problem, _ticket(session, ticket), by=by, now=now, how=how)


def _link(session: Session, head, problem: ProblemRow, ticket: TicketRow, *, by: str, now: datetime,
          how: LinkHow) -> bool:
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
    _council_event(session, ticket, "problem_linked", by, now, problem=problem_ref(problem.id), how=str(how))
    return True


def unlink(session: Session, problem_id: int | str, ticket: str | TicketRow, *, by: str, now: datetime) -> bool:
    """Unlink a ticket (it then stays open when the problem is resolved); False if it was not linked."""
    head, problem = _locked(session, problem_id)
    found = _ticket(session, ticket)
    assert found.id is not None and problem.id is not None
    row = active_link(session, found.id)
    if row is None or row.problem_id != problem.id:
        return False
    row.unlinked_by, row.unlinked_at = by, now
    session.add(row)
    problem_audit.append(session, head, problem_id=problem.id, type="unlinked", actor=by, at=now,
                         data={"ticket": found.ref, "council": found.council_id})
    _council_event(session, found, "problem_unlinked", by, now, problem=problem_ref(problem.id))
    return True


def _council_event(session: Session, ticket: TicketRow, type: str, by: str, now: datetime, **data: str) -> None:
    """On the ticket's own council chain: the problem's ref only (its title may name other councils)."""
    council = queries.get_council(session, ticket.council_id, lock=True)
    audit.append_event(session, council=council, ticket=ticket, type=type, actor=by, at=now, data=data)
    session.flush()


def resolve_problem(session: Session, problem_id: int | str, *, by: str, now: datetime, note: str,
                    key: str) -> list[TicketRow]:
    """Resolve the problem and, through each ticket's usual resolution, every linked open ticket: its
    clocks stop at `now`, its council gets the note in its thread with the rating buttons. A repeat with
    the same `key` (or of a resolved problem's resolution) changes nothing and returns the same tickets."""
    note, key = _text(note, "a resolution note"), _text(key, "an idempotency key")
    head = problem_audit.lock_chain(session)
    seen = problem_audit.find_by_key(session, key)
    if seen is not None:
        return [queries.get_ticket(session, ref) for ref in seen.data.get("tickets", [])]
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    current = _require_open(problem)
    resolved = []
    for ticket in linked_tickets(session, problem.id or 0):
        if ticket.status in OPEN_STATUSES:
            resolved.append(tickets.resolve(session, ref=ticket.ref, note=note, actor=by, at=now))
    problem.status, problem.resolved_at, problem.resolution_note = str(ProblemStatus.RESOLVED), now, note
    problem.updated_at = now
    session.add(problem)
    problem_audit.append(session, head, problem_id=problem.id or 0, type="resolved", actor=by, at=now, key=key,
                         data={"note": note, "from": str(current), "tickets": [t.ref for t in resolved]})
    return resolved


def record_broadcast(session: Session, problem_id: int | str, *, by: str, now: datetime,
                     councils: list[str]) -> bool:
    """Record on the problem's chain that its summary was broadcast to `councils`' channels; False (and
    nothing recorded) when it was broadcast before: one broadcast per problem."""
    head, problem = _locked(session, problem_id)
    _require_open(problem)
    key = f"broadcast:{problem.id}"
    if problem_audit.find_by_key(session, key) is not None:
        return False
    problem_audit.append(session, head, problem_id=problem.id or 0, type="broadcast", actor=by, at=now, key=key,
                         data={"councils": sorted(councils)})
    return True


def set_triage_message(session: Session, problem_id: int | str, *, channel: str, ts: str) -> None:
    """Remember the problem's own message in the triage channel, so it is updated in place."""
    problem = get_problem(session, problem_id)
    problem.triage_channel, problem.triage_ts = channel, ts
    session.add(problem)
    session.flush()


def intake_rules(session: Session) -> list[rules.MatchRule]:
    """Open problems that may take a new ticket, newest activity first. When there are any, the chain
    head is locked first, before intake locks the council (the order every problem change uses)."""
    query = select(ProblemRow).where(col(ProblemRow.status).in_([str(s) for s in rules.OPEN_PROBLEM_STATUSES]))
    candidates = [p for p in session.exec(query).all() if p.match]
    if not candidates:
        return []
    problem_audit.lock_chain(session)
    candidates.sort(key=lambda p: (p.updated_at, p.id or 0), reverse=True)
    return [rules.MatchRule(p.id or 0, tuple(p.match), p.triage_rule, p.category) for p in candidates]


def auto_link(session: Session, ticket: TicketRow, candidates: list[rules.MatchRule], *, now: datetime) -> int | None:
    """Link a new ticket to the open problem it matches (`intake_rules`, taken before the ticket was
    opened); the problem's id, or None."""
    if not candidates:
        return None
    found = rules.first_match(candidates, rules.NewTicket(f"{ticket.title}\n{ticket.description}",
                                                          ticket.triage_rule, ticket.category))
    if found is None:
        return None
    head, problem = _locked(session, found)
    _link(session, head, problem, ticket, by="desk", now=now, how=LinkHow.AUTO)
    return found
