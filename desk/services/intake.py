"""Requests arriving from chat: deliveries acted on once, tickets opened from messages, thread replies.

Adapter-neutral: the Slack listeners call these with plain values (ids, text, instants).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from desk.db import new_tickets, queries, stamps
from desk.db.engine import connection_of
from desk.db.prepared import Prepared
from desk.db.tables import OutboxRow, SlackDeliveryRow, TicketRow
from desk.domain.calendar import business_calendar
from desk.domain.lifecycle import ThreadEffect
from desk.domain.playbook import ClockKind
from desk.domain.tenancy import Actor
from desk.errors import InvalidInput, PermissionDenied
from desk.services import problems, rota, sla_state, tenancy, threads, tickets

TITLE_WORDS = 120


# Built once. It returns the configuration stamps too (desk/db/stamps.py), so that the reads of the registry
# and the open problems that follow in this unit of work are checked against them without a statement of
# their own.
_RECORD_DELIVERY = {name: Prepared(stamps.returning_stamps(dialect.insert(SlackDeliveryRow.__table__)
                                                           .on_conflict_do_nothing()
                                                           .returning(SlackDeliveryRow.__table__.c.key)))
                    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def first_time(session: Session, key: str, kind: str, at: datetime) -> bool:
    """Record a delivery; False if it was recorded before (a redelivery or a second submission)."""
    statement = _RECORD_DELIVERY[session.get_bind().dialect.name]
    rows = statement.execute(connection_of(session), {"key": key, "kind": kind, "received_at": at})
    if not rows:
        return False
    stamps.note(session, rows[0])
    return True


title_from = tickets.title_from


def council_for(actor: Actor) -> str:
    """The council a request is for: the actor's own, or (support staff) the council whose channel it is."""
    if actor.council_id is None:
        raise PermissionDenied("desk opens tickets for partner councils, from a council's channel")
    return actor.council_id


@dataclass(frozen=True)
class Opened:
    ticket: TicketRow
    opens_at: datetime | None  # the next working time, when opened outside the council's hours
    problem_id: int | None = None  # an open problem it matched and was linked to (`problems.known_problem_for`)


def open_request(
    session: Session, *, actor: Actor, text: str, at: datetime, requester: str, title: str | None = None,
    channel: str | None = None, ts: str | None = None, category: str | None = None,
    impact: str | None = None, urgency: str | None = None,
) -> Opened:
    """Open a ticket for what a council asked; one ticket per Slack message (or thread).

    `ts` is the message that becomes the ticket's council thread: for a request made from a thread reply,
    the caller passes the thread's parent, so later replies in that thread find the ticket. `channel`
    without `ts` (the `/desk` form) is where desk starts the thread, when it is one of the council's
    channels."""
    council_id = council_for(actor)
    if channel and not ts and not tenancy.is_council_channel(session, channel, council_id):
        channel = None  # a form opened elsewhere (a DM, App Home): desk starts the thread in the council's channel
    # one ticket per message: `tickets.open_ticket` refuses a message that has one ("that message is already …")
    candidates = problems.intake_rules(session)  # before the council's lock: the order problems keep
    ticket = tickets.open_ticket(
        session, council_id=council_id, title=title or title_from(text), description=text, at=at,
        actor=actor.user, requester=requester, category=category, impact=impact, urgency=urgency,
        slack_channel=channel, slack_ts=ts)
    ticket = rota.route(session, ticket, at=at)  # auto-assignment, when a routing rule matches
    problem_id = problems.auto_link(session, ticket, candidates, now=at)
    return Opened(ticket, opens_at(session, ticket, at), problem_id)


ANNOUNCE_KIND = "announce"  # the outbox row the worker posts a new ticket's thread and card from


def open_by_hand(
    session: Session, *, council_id: str, title: str, at: datetime, actor: str, description: str = "",
    requester: str | None = None, channel: str | None = None, priority: str | None = None,
) -> Opened:
    """A ticket opened by support for a council (a phone call, an email): triaged like any other, with a
    triage card, and, when it names who asked or where, a council thread (desk's post in the council's
    channel) so the council can follow it and a public reply there meets the respond target.

    The posts are written to the outbox with the ticket, for the worker to send: whoever opens it may
    have no Slack client (the command line)."""
    council = queries.get_council(session, council_id)
    channels = list(council.slack.get("channels", []))
    if channel is not None and channel not in channels:
        raise InvalidInput(f"{channel} is not one of {council_id}'s channels ({', '.join(channels) or 'none'})")
    with_thread = bool(requester or channel) and bool(channels)
    candidates = problems.intake_rules(session)  # before the council's lock: the order problems keep
    ticket = tickets.open_ticket(
        session, council_id=council_id, title=title, description=description, at=at, actor=actor,
        requester=requester, priority=priority, slack_channel=(channel or channels[0]) if with_thread else None)
    problem_id = problems.auto_link(session, ticket, candidates, now=at)
    opens = opens_at(session, ticket, at)
    session.add(OutboxRow(idempotency_key=f"{ANNOUNCE_KIND}:{ticket.ref}", kind=ANNOUNCE_KIND,
                          council_id=council_id, ticket_id=ticket.id, target=ticket.slack_channel,
                          created_at=at, available_at=at,
                          payload={"ref": ticket.ref, "opens_at": opens.isoformat() if opens else None,
                                   "council_thread": with_thread}))
    session.flush()
    return Opened(ticket, opens, problem_id)


def opens_at(session: Session, ticket: TicketRow, at: datetime) -> datetime | None:
    """The next working time, when a ticket arrives outside its council's hours and its clocks wait for
    them; None when they are running already (in hours, or a priority on a 24x7 clock: a P1 on a
    Saturday night is being counted, so telling the council "we're closed" would be wrong)."""
    playbook = sla_state.playbook_for(session, ticket.playbook_version_id)
    if playbook.priorities[ticket.priority].clock != ClockKind.BUSINESS:
        return None
    calendar = business_calendar(playbook.calendar.with_division(new_tickets.division(session, ticket.council_id)))
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
    return version_of(session, queries.get_ticket(session, ref))


def version_of(session: Session, ticket: TicketRow) -> int:
    """`ticket_version` of a ticket already read."""
    assert ticket.id is not None
    return queries.latest_event_seq(session, ticket.id)


def find_ticket_for_message(session: Session, channel: str, ts: str) -> TicketRow | None:
    return queries.find_ticket_by_message(session, channel, ts)


def council_name(session: Session, council_id: str) -> str:
    return queries.get_council(session, council_id).name


def record_posts(session: Session, ticket: TicketRow, *, thread: tuple[str, str] | None = None,
                 confirmation_ts: str | None = None, card: tuple[str, str] | None = None,
                 resolution_ts: str | None = None) -> None:
    """Remember where desk posted about a ticket, so replies and card updates find it."""
    if thread is not None and ticket.slack_ts is None:
        ticket.slack_channel, ticket.slack_ts = thread
    if confirmation_ts is not None:
        ticket.confirmation_ts = confirmation_ts
    if card is not None:
        ticket.card_channel, ticket.card_ts = card
    if resolution_ts is not None:
        ticket.resolution_ts = resolution_ts
    session.add(ticket)
    session.flush()


ThreadOutcome = threads.ThreadOutcome
def message_edited(session: Session, *, channel: str, ts: str, text: str, editor: str,
                   at: datetime) -> TicketRow | None:
    """Someone edited a message: when it opened a ticket (not yet redacted), the ticket records the edit
    (and follows it, before triage is confirmed: `tickets.request_edited`). None otherwise."""
    ticket = queries.find_ticket_by_message(session, channel, ts)
    if ticket is None or ticket.redacted_at is not None or not text.strip():
        return None
    return tickets.request_edited(session, ref=ticket.ref, text=text, actor=editor, at=at)


def message_deleted(session: Session, *, channel: str, ts: str, at: datetime) -> TicketRow | None:
    """A message was deleted: when it opened a ticket, the ticket stays and records that it was."""
    ticket = queries.find_ticket_by_message(session, channel, ts)
    if ticket is None or ticket.redacted_at is not None:
        return None
    return tickets.request_deleted(session, ref=ticket.ref, actor="slack", at=at)


def thread_message(session: Session, *, actor: Actor, channel: str, thread_ts: str, text: str,
                   at: datetime) -> ThreadOutcome | None:
    """A reply in a ticket's thread: public reply, comment, note, reopen or follow-up (services/threads.py).
    Someone from the support organisation who is not on the support team is refused (`PermissionDenied`,
    in services/threads.py). A follow-up is a new request: like any, it says when work starts if it came outside working hours."""
    outcome = threads.thread_message(session, actor=actor, channel=channel, thread_ts=thread_ts, text=text, at=at)
    if outcome is not None and outcome.effect is ThreadEffect.FOLLOW_UP:
        return replace(outcome, opens_at=opens_at(session, outcome.ticket, at))
    return outcome


def rate(session: Session, *, actor: Actor, ref: str, score: int, at: datetime) -> bool:
    """Record a council's rating of a resolution; False when this resolution was already rated."""
    if not actor.is_council:
        raise PermissionDenied("only the council that raised a ticket can rate it")
    return tickets.rate(session, ref=ref, score=score, actor=actor.user, at=at, council_id=actor.council_id)
