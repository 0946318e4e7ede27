"""Requests arriving from chat: deliveries acted on once, tickets opened from messages, thread replies.

Adapter-neutral: the Slack listeners call these with plain values (ids, text, instants).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from desk.db import queries
from desk.db.tables import SlackDeliveryRow, TicketRow
from desk.domain.calendar import business_calendar
from desk.domain.lifecycle import OPEN_STATUSES
from desk.domain.roles import Power, require
from desk.domain.tenancy import Actor
from desk.errors import InvalidInput, PermissionDenied
from desk.services import sla_state, tickets

TITLE_WORDS = 120


def first_time(session: Session, key: str, kind: str, at: datetime) -> bool:
    """Record a delivery; False if it was recorded before (a redelivery or a second submission)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(SlackDeliveryRow).values(key=key, kind=kind, received_at=at)
                 .on_conflict_do_nothing().returning(SlackDeliveryRow.key))
    return session.execute(statement).first() is not None


def title_from(text: str) -> str:
    """A ticket title from a chat message: its first non-empty line, shortened."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= TITLE_WORDS else line[: TITLE_WORDS - 1].rstrip() + "…"


def council_for(actor: Actor) -> str:
    """The council a request is for: the actor's own, or (support staff) the council whose channel it is."""
    if actor.council_id is None:
        raise PermissionDenied("desk opens tickets for partner councils, from a council's channel")
    return actor.council_id


@dataclass(frozen=True)
class Opened:
    ticket: TicketRow
    opens_at: datetime | None  # the next working time, when opened outside the council's hours


def open_request(
    session: Session, *, actor: Actor, text: str, at: datetime, requester: str, title: str | None = None,
    channel: str | None = None, ts: str | None = None, category: str | None = None,
    impact: str | None = None, urgency: str | None = None,
) -> Opened:
    """Open a ticket for what a council asked; one ticket per Slack message."""
    council_id = council_for(actor)
    if channel and ts and (existing := queries.find_ticket_by_message(session, channel, ts)) is not None:
        raise InvalidInput(f"that message is already {existing.ref}")
    ticket = tickets.open_ticket(
        session, council_id=council_id, title=title or title_from(text), description=text, at=at,
        actor=actor.user, requester=requester, category=category, impact=impact, urgency=urgency,
        slack_channel=channel, slack_ts=ts)
    return Opened(ticket, _opens_at(session, ticket, at))


def _opens_at(session: Session, ticket: TicketRow, at: datetime) -> datetime | None:
    council = queries.get_council(session, ticket.council_id)
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    calendar = business_calendar(playbook.calendar.with_division(council.division))
    opens = calendar.next_working(at)
    return None if opens == at else opens


def find_ticket(session: Session, ref: str, *, council_id: str | None) -> TicketRow | None:
    """A ticket by ref; with `council_id`, only that council's (another council's ref is simply unknown)."""
    return queries.find_ticket(session, ref, council_id=council_id)


def get_ticket(session: Session, ref: str, *, council_id: str | None = None) -> TicketRow:
    return queries.get_ticket(session, ref, council_id=council_id)


def find_ticket_for_card(session: Session, channel: str | None, ts: str | None) -> TicketRow | None:
    if not channel or not ts:
        return None
    return queries.find_ticket_by_card(session, channel, ts)


def priorities(session: Session, ref: str) -> list[tuple[str, str]]:
    """(code, name) of the priorities a ticket's playbook version offers, most severe first."""
    ticket = queries.get_ticket(session, ref)
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    return [(code, target.name) for code, target in playbook.priorities.items()]


def categories(session: Session, council_id: str | None) -> list[str]:
    """The categories a council's playbook knows (its rules' and its default), for the intake form."""
    if council_id is None:
        return []
    council = queries.get_council(session, council_id)
    version = queries.find_current_playbook_version(session, council.playbook_id)
    if version is None or version.id is None:
        return []
    playbook = sla_state.playbook_for(session, version.id)
    found = [rule.category for rule in playbook.rules if rule.category] + [playbook.defaults.category]
    return sorted(set(found))


def ticket_version(session: Session, ref: str) -> int:
    """The sequence number of a ticket's latest event: it changes with every change to the ticket."""
    ticket = queries.get_ticket(session, ref)
    assert ticket.id is not None
    return queries.latest_event_seq(session, ticket.id)


def find_ticket_for_message(session: Session, channel: str, ts: str) -> TicketRow | None:
    return queries.find_ticket_by_message(session, channel, ts)


def council_name(session: Session, council_id: str) -> str:
    return queries.get_council(session, council_id).name


def record_posts(session: Session, ticket: TicketRow, *, thread: tuple[str, str] | None = None,
                 confirmation_ts: str | None = None, card: tuple[str, str] | None = None) -> None:
    """Remember where desk posted about a ticket, so replies and card updates find it."""
    if thread is not None and ticket.slack_ts is None:
        ticket.slack_channel, ticket.slack_ts = thread
    if confirmation_ts is not None:
        ticket.confirmation_ts = confirmation_ts
    if card is not None:
        ticket.card_channel, ticket.card_ts = card
    session.add(ticket)
    session.flush()


@dataclass(frozen=True)
class ThreadOutcome:
    ticket: TicketRow
    kind: str  # "replied", "commented", "noted"


def thread_message(session: Session, *, actor: Actor, channel: str, thread_ts: str, text: str,
                   at: datetime) -> ThreadOutcome | None:
    """A reply in a ticket's thread: public reply, council comment or internal note, by who and where.
    Someone from the support organisation who is not on the support team is refused (`PermissionDenied`)."""
    council_thread = queries.find_ticket_by_message(session, channel, thread_ts)
    if council_thread is not None:
        if council_thread.status not in OPEN_STATUSES:
            return None  # a closed conversation: follow-ups are the worker's business
        if actor.from_support_team:  # a public reply stops the respond clock: the support team's alone
            require(actor, Power.REPLY_TO_COUNCIL)
            return ThreadOutcome(tickets.reply(session, ref=council_thread.ref, text=text, actor=actor.user,
                                               at=at), "replied")
        if actor.is_council and actor.council_id == council_thread.council_id:
            return ThreadOutcome(tickets.comment(session, ref=council_thread.ref, text=text, actor=actor.user,
                                                 at=at, council_id=actor.council_id), "commented")
        return None
    card_thread = queries.find_ticket_by_card(session, channel, thread_ts)
    if card_thread is not None and actor.from_support_team:
        require(actor, Power.WRITE_NOTES)
        return ThreadOutcome(tickets.note(session, ref=card_thread.ref, text=text, actor=actor.user, at=at),
                             "noted")
    return None


def rate(session: Session, *, actor: Actor, ref: str, score: int, at: datetime) -> bool:
    """Record a council's rating of a resolution; False when this resolution was already rated."""
    if not actor.is_council:
        raise PermissionDenied("only the council that raised a ticket can rate it")
    return tickets.rate(session, ref=ref, score=score, actor=actor.user, at=at, council_id=actor.council_id)
