"""Problem use cases: open, update (told to every linked council), link, unlink, resolve together.

Rules in desk/domain/problems.py; linking and intake matching in problem_links.py, reads in
problem_views.py (both re-exported here so callers need one import). Every change locks the problems'
chain head first (`problem_audit.lock_chain`), then any council row, appends to the problems' chain, and
flushes; the caller commits.

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

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import OutboxRow, ProblemRow, TicketRow
from desk.domain import problems as rules
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.problems import LinkHow, ProblemStatus, problem_ref
from desk.errors import InvalidInput, InvalidTransition
from desk.services import problem_audit, tickets
from desk.services.problem_links import (  # noqa: F401  (re-exported: the one import callers need)
    active_link,
    auto_link,
    get_problem,
    intake_rules,
    link,
    link_locked,
    linked_tickets,
    locked,
    require_open,
    ticket_of,
    unlink,
)
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
WORDS_MAX = 2500  # a summary, workaround, update or note: it must fit one Slack section with its headline


@dataclass(frozen=True)
class UpdateResult:
    problem: ProblemRow
    seq: int  # the problem event this update wrote (or found, when repeated)
    posted_to: list[str] = field(default_factory=list)  # refs of the tickets whose threads get the text
    repeated: bool = False


def _text(value: str | None, what: str, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{what} is required")
    if limit and len(value) > limit:
        raise InvalidInput(f"{what} is at most {limit} characters")
    return value


def _words(value: str | None, what: str) -> str:
    """Optional words for councils, within what one Slack message section holds."""
    value = (value or "").strip()
    if len(value) > WORDS_MAX:
        raise InvalidInput(f"{what} is at most {WORDS_MAX} characters (it has {len(value)})")
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
    title, summary = _text(title, "a title", TITLE_MAX), _words(summary, "the summary")
    phrases = _phrases(match)
    head = problem_audit.lock_chain(session)
    if key and (seen := problem_audit.find_by_key(session, key)) is not None:
        return get_problem(session, seen.problem_id)
    origin = ticket_of(session, from_ticket) if from_ticket is not None else None
    if origin is not None and origin.id is not None and (taken := active_link(session, origin.id)) is not None:
        raise InvalidInput(f"{origin.ref} is linked to {problem_ref(taken.problem_id)}: unlink it first")
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
        link_locked(session, head, problem, origin, by=by, now=now, how=LinkHow.ORIGIN)
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
    for value, what in ((public_text, "an update"), (workaround, "the workaround"), (summary, "the summary")):
        _words(value, what)
    head = problem_audit.lock_chain(session)
    if (seen := problem_audit.find_by_key(session, key)) is not None:
        return UpdateResult(get_problem(session, seen.problem_id), seen.seq, list(seen.data.get("posted_to", [])),
                            repeated=True)
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    current = require_open(problem)
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
    if problem.status == ProblemStatus.KNOWN_ERROR and not problem.workaround:
        raise InvalidInput("a known error has a workaround: to withdraw it, move the problem to another status")
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


def resolve_problem(session: Session, problem_id: int | str, *, by: str, now: datetime, note: str,
                    key: str) -> list[TicketRow]:
    """Resolve the problem and, through each ticket's usual resolution, every linked open ticket: its
    clocks stop at `now`, its council gets the note in its thread with the rating buttons. A repeat with
    the same `key` (or of a resolved problem's resolution) changes nothing and returns the same tickets."""
    note, key = _text(_words(note, "the resolution note"), "a resolution note"), _text(key, "an idempotency key")
    head = problem_audit.lock_chain(session)
    seen = problem_audit.find_by_key(session, key)
    if seen is not None:
        return [queries.get_ticket(session, ref) for ref in seen.data.get("tickets", [])]
    problem = get_problem(session, problem_id)
    session.refresh(problem)
    current = require_open(problem)
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
    head, problem = locked(session, problem_id)
    require_open(problem)
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
