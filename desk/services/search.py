"""Searching tickets: keeping the index current, a person's search, and "Similar tickets" for the card.

**Kept current in the same transaction.** Every use case that changes what a ticket is found by calls
`index_ticket` before its caller commits: opening a ticket, a public reply, the council editing its request
(desk/services/tickets.py), and the removal of words by retention and by `desk privacy redact`
(`forget_words`). So a ticket is findable the moment it exists, and words that were removed cannot be found
a moment later; a rollback takes the index back with everything else.

**Scope.** `Scope.council(id)` (a council's member, a council's API token) finds only that council's tickets:
the filter is in the query, before ranking and the limit, so another council's tickets are never read, not
merely hidden. `Scope.every_council()` is support's. What is searched is the same for both
(desk/domain/search.py): titles, descriptions and public replies, never internal notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desk.db import queries, search_index
from desk.db.tables import TicketRow
from desk.domain.search import Match, document, telling_words, words
from desk.errors import InvalidInput
from desk.services.read_models import TicketSummary, summarize

SEARCH_LIMIT = 20
SIMILAR_LIMIT = 3


@dataclass(frozen=True)
class Scope:
    """Whose tickets a search may find: one council's, or (support) every council's."""

    council_id: str | None

    @classmethod
    def council(cls, council_id: str) -> Scope:
        if not council_id:
            raise ValueError("a council scope needs the council's id")
        return cls(council_id)

    @classmethod
    def every_council(cls) -> Scope:
        return cls(None)


@dataclass(frozen=True)
class SimilarTicket:
    """An earlier ticket like this one, as the triage card lists it."""

    ref: str
    council_name: str
    status: str
    title: str


@dataclass(frozen=True)
class Hit:
    ticket: TicketSummary  # status and SLA state as of the search
    score: float  # higher is better, within one search


def index_ticket(session: Session, ticket: TicketRow) -> None:
    """Write the ticket's document as it stands now (the caller's transaction commits it)."""
    assert ticket.id is not None, "flush the ticket before indexing it"
    events = queries.list_ticket_events(session, ticket.id, types=("replied", "edited"))
    edits = [e for e in events if e.type == "edited"]
    late = edits[-1].data.get("text") if edits and not edits[-1].data.get("applied") else None
    replies = [e.data.get("text") for e in events if e.type == "replied"]
    search_index.write(session, ticket.id, document(ticket.title, ticket.description, replies, late))


def new_document(ticket: TicketRow) -> dict[str, object]:
    """`index_ticket`'s document for a ticket opened in this transaction, as `search_index` writes it: it has
    no replies or edits yet, and no document to replace (`new_tickets.write_opened` writes it)."""
    assert ticket.id is not None, "insert the ticket before indexing it"
    return search_index.values_of(ticket.id, document(ticket.title, ticket.description, [], None))


def forget_words(session: Session, tickets: list[TicketRow]) -> None:
    """Words of these tickets were removed (retention, an erasure): re-index them from what is left, and
    merge the index so the removed words are gone from it, not only unreachable."""
    if not tickets:
        return
    for ticket in tickets:
        index_ticket(session, ticket)
    search_index.compact(session)


def search(session: Session, text: str, *, scope: Scope, now: datetime, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Tickets with every word of `text` in their title, description or public replies, best first."""
    terms = words(text)
    if not terms:
        raise InvalidInput("give some words to search for, e.g. `direct debit failed`")
    found = search_index.find(session, terms, Match.ALL, limit=limit, council_id=scope.council_id)
    hits = []
    for match in found:
        ticket = session.get(TicketRow, match.ticket_id)
        assert ticket is not None and (scope.council_id is None or ticket.council_id == scope.council_id)
        hits.append(Hit(summarize(session, ticket, now), match.score))
    return hits


def similar(session: Session, ticket: TicketRow, *, limit: int = SIMILAR_LIMIT) -> list[SimilarTicket]:
    """Up to `limit` tickets opened before this one, of its council or its category, that share telling
    words with its title and description, most alike first. For support's triage card only."""
    terms = telling_words(f"{ticket.title}\n{ticket.description}")
    if not terms or ticket.id is None:
        return []
    found = search_index.find(session, terms, Match.ANY, limit=limit, before_id=ticket.id,
                              council_or_category=(ticket.council_id, ticket.category))
    names = {c.id: c.name for c in queries.list_councils(session)}
    rows = [session.get(TicketRow, match.ticket_id) for match in found]
    return [SimilarTicket(row.ref, names.get(row.council_id, row.council_id), row.status, row.title)
            for row in rows if row is not None]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def sla_record(t: TicketSummary) -> dict:
    """Where a hit's SLA stands as of the search: each metric's due instant, and whether it was met,
    breached or is paused (the current resolve cycle); `next_due_at`, the earliest target still running."""
    def metric(view, **extra) -> dict:
        return {"due_at": _iso(view.due_at), "stopped_at": _iso(view.stopped_at), "breached": view.breached,
                "breached_at": _iso(view.breached_at), **extra}

    return {"respond": metric(t.respond), "resolve": metric(t.resolve, cycle=t.cycle, paused=t.resolve.paused),
            "next_due_at": _iso(t.next_due_at)}


def hit_record(hit: Hit) -> dict:
    """One hit as JSON (`desk tickets search --json`, the API's `?q=`): the `desk tickets list` fields,
    its score, and its SLA state."""
    t = hit.ticket
    return {"ref": t.ref, "council": t.council_id, "status": t.status, "priority": t.priority,
            "category": t.category, "title": t.title, "requester": t.requester, "assignee": t.assignee,
            "opened_at": t.opened_at.isoformat(), "score": round(hit.score, 6), "sla": sla_record(t)}
