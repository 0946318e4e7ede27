"""Ticket use cases against a real, migrated database and the frozen test playbooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import SlaClockRow, TicketEventRow
from desk.domain.sla_replay import replay
from desk.errors import InvalidInput, InvalidTransition, NotFound
from desk.services import sla_state, tickets

# Monday 5 January 2026, 09:00 GMT: the standard playbook's week is mon-thu 09:00-12:30 + 13:30-17:00.
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def open_one(session: Session, title: str = "Direct debit file rejected", **kwargs):
    kwargs.setdefault("council_id", "cherwell")
    kwargs.setdefault("at", MONDAY)
    return tickets.open_ticket(session, title=title, actor="U0COUNCIL", **kwargs)


def test_refs_are_numbered_per_council(session: Session) -> None:
    refs = [open_one(session).ref, open_one(session).ref, open_one(session, council_id="fife").ref]
    assert refs == ["CHW-1", "CHW-2", "FIFE-1"]


def test_triage_by_rule_is_recorded_with_the_rule(session: Session) -> None:
    ticket = open_one(session, "We cannot take card payments at the counter")
    assert (ticket.priority, ticket.category, ticket.triage_rule) == ("P1", "payments", "cannot-take-payments")
    opened = queries.list_ticket_events(session, ticket.id)[0]
    assert opened.data["rule"] == "cannot-take-payments"
    assert opened.data["decided_by"] == "rule"
    assert opened.data["targets"] == {"respond": 1800, "resolve": 14400}


def test_an_explicit_priority_wins_over_rule_and_matrix(session: Session) -> None:
    ticket = open_one(session, "We cannot take card payments", priority="P3")
    assert ticket.priority == "P3"
    assert queries.list_ticket_events(session, ticket.id)[0].data["decided_by"] == "explicit"


def test_impact_and_urgency_from_a_person_go_through_the_matrix(session: Session) -> None:
    ticket = open_one(session, "Something odd", impact="high", urgency="low")
    assert ticket.priority == "P3"


def test_no_rule_falls_back_to_the_defaults(session: Session) -> None:
    ticket = open_one(session, "Something odd")
    assert (ticket.priority, ticket.category, ticket.triage_rule) == ("P3", "general", None)


@pytest.mark.parametrize("bad", [{"priority": "P9"}, {"impact": "enormous"}, {"title": "   "}])
def test_bad_requests_are_refused_and_write_nothing(synced: Engine, bad: dict) -> None:
    with pytest.raises(InvalidInput):
        with unit_of_work(synced) as session:
            open_one(session, **{"title": "Refund stuck", **bad})
    with unit_of_work(synced) as session:
        assert queries.list_tickets(session) == []
        assert queries.get_council(session, "cherwell").next_number == 1


def test_a_whole_life_is_in_the_event_log_and_the_live_state_matches_replay(session: Session) -> None:
    t = open_one(session)
    ref, step = t.ref, timedelta(minutes=20)
    tickets.reply(session, ref=ref, text="Looking now", actor="U0ENGINEER1", at=MONDAY + step)
    tickets.assign(session, ref=ref, assignee="U0ENGINEER1", actor="U0ENGINEER1", at=MONDAY + 2 * step)
    tickets.set_status(session, ref=ref, status="waiting_on_council", actor="U0ENGINEER1",
                       at=MONDAY + 3 * step)
    tickets.comment(session, ref=ref, text="Here is the file", actor="U0COUNCIL", at=MONDAY + 6 * step)
    tickets.note(session, ref=ref, text="Bank format changed", actor="U0ENGINEER1", at=MONDAY + 7 * step)
    tickets.change_priority(session, ref=ref, priority="P2", reason="payroll run tomorrow",
                            actor="U0ENGINEER1", at=MONDAY + 8 * step)
    tickets.resolve(session, ref=ref, note="Resubmitted", actor="U0ENGINEER1", at=MONDAY + 9 * step)
    tickets.reopen(session, ref=ref, reason="Rejected again", actor="U0COUNCIL", at=MONDAY + 10 * step)
    ticket = queries.get_ticket(session, ref)
    events = queries.list_ticket_events(session, ticket.id)
    assert [e.type for e in events] == ["opened", "replied", "status", "assigned", "status", "commented",
                                        "status", "noted", "priority", "resolved", "reopened"]
    assert events[4].data == {"from": "in_progress", "to": "waiting_on_council"}
    assert events[6].data == {"from": "waiting_on_council", "to": "in_progress", "reason": "council replied"}
    assert events[8].data["targets"] == {"resolve": {"old": 86400, "new": 28800}}  # respond already met
    assert [e.seq for e in events] == list(range(1, 12))

    policy = sla_state.policy_for(session, ticket)
    live = sla_state.load(session, ticket, policy)
    replayed = replay(policy, sla_state.replay_events(events), MONDAY + 10 * step).sla
    assert [vars(r) for r in live.runs] == [vars(r) for r in replayed.runs]
    assert [r.cycle for r in live.resolve_cycles] == [1, 2]
    # The first cycle paused from 10:00 to 11:00: business time, on the metric's clock
    assert live.resolve_cycles[0].paused_seconds == 3600


def test_next_step_instants_are_stored_for_the_sweeper(session: Session) -> None:
    ticket = open_one(session, "We cannot take card payments")  # P1, 24x7: respond 30m
    rows = {r.metric: r for r in session.exec(select(SlaClockRow).where(SlaClockRow.ticket_id == ticket.id))}
    assert rows["respond"].next_step_at == MONDAY + timedelta(minutes=22, seconds=30)
    assert rows["resolve"].next_step_at == MONDAY + timedelta(hours=3)
    tickets.reply(session, ref=ticket.ref, text="On it", actor="U0ENGINEER1", at=MONDAY + timedelta(minutes=5))
    session.refresh(rows["respond"])
    assert rows["respond"].next_step_at is None and rows["respond"].stopped_at is not None
    tickets.set_status(session, ref=ticket.ref, status="waiting_on_council", actor="U0ENGINEER1",
                       at=MONDAY + timedelta(minutes=10))
    session.refresh(rows["resolve"])
    assert rows["resolve"].next_step_at is None  # paused: nothing fires


@pytest.mark.parametrize(("action", "kwargs"), [
    (tickets.reopen, {"reason": "again"}),
    (tickets.close, {}),
])
def test_transitions_the_lifecycle_forbids_are_typed_errors(session: Session, action, kwargs) -> None:
    ref = open_one(session).ref
    with pytest.raises(InvalidTransition, match=f"{ref} is new"):
        action(session, ref=ref, actor="U0ENGINEER1", at=MONDAY, **kwargs)


def test_a_closed_ticket_cannot_be_resolved_or_replied_to(session: Session) -> None:
    ref = open_one(session).ref
    tickets.resolve(session, ref=ref, note="done", actor="U0ENGINEER1", at=MONDAY)
    tickets.close(session, ref=ref, actor="desk", at=MONDAY + timedelta(days=7))
    with pytest.raises(InvalidTransition):
        tickets.resolve(session, ref=ref, note="again", actor="U0ENGINEER1", at=MONDAY + timedelta(days=8))
    with pytest.raises(InvalidInput, match="reopen it first"):
        tickets.reply(session, ref=ref, text="hello", actor="U0ENGINEER1", at=MONDAY + timedelta(days=8))


def test_a_council_scoped_lookup_never_finds_another_councils_ticket(session: Session) -> None:
    ref = open_one(session, council_id="fife").ref
    with pytest.raises(NotFound):
        tickets.comment(session, ref=ref, text="peek", actor="U0OTHER", at=MONDAY, council_id="cherwell")
    events = session.exec(select(TicketEventRow).where(TicketEventRow.type == "commented")).all()
    assert events == []


def test_instants_come_back_aware_utc(session: Session) -> None:
    ticket = open_one(session, at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC) + timedelta(hours=0))
    session.expire_all()
    again = queries.get_ticket(session, ticket.ref)
    assert again.opened_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert again.opened_at.utcoffset() == timedelta(0)


def test_a_naive_instant_is_refused_and_nothing_is_written(synced: Engine) -> None:
    with pytest.raises(ValueError, match="naive"):
        with unit_of_work(synced) as session:
            open_one(session, at=datetime(2026, 1, 5, 9, 0))
    with unit_of_work(synced) as session:
        assert queries.list_tickets(session) == []


def test_a_message_that_has_a_ticket_is_refused_naming_it_and_nothing_is_numbered(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        first = open_one(session, slack_channel="C0CHERWELL", slack_ts="1767603600.000100")
    with pytest.raises(InvalidInput, match=f"that message is already {first.ref}"):
        with unit_of_work(synced) as session:
            open_one(session, slack_channel="C0CHERWELL", slack_ts="1767603600.000100")
    with unit_of_work(synced) as session:
        assert open_one(session, slack_channel="C0CHERWELL", slack_ts="1767603600.000200").ref == "CHW-2"
        assert [e.ticket_ref for e in queries.list_council_events(session, "cherwell")] == ["CHW-1", "CHW-2"]


def test_a_refused_message_leaves_the_unit_of_work_usable(session: Session) -> None:
    """The refusal writes nothing, so a caller that carries on (another message) numbers as before."""
    first = open_one(session, slack_channel="C0CHERWELL", slack_ts="1767603600.000100")
    with pytest.raises(InvalidInput):
        open_one(session, slack_channel="C0CHERWELL", slack_ts="1767603600.000100")
    assert open_one(session).ref == "CHW-2"
    assert queries.get_council(session, "cherwell", lock=True).next_number == 3
    assert first.id is not None and len(queries.list_sla_clocks(session, first.id)) == 2
