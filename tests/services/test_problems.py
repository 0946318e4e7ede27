"""Problem use cases against a real, migrated database: links, updates told to each ticket, resolving
together, idempotency, the problems' own audit chain, and auto-linking at intake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from desk.db import queries
from desk.db.tables import OutboxRow, ProblemEventRow, TicketEventRow
from desk.domain.tenancy import Actor, ActorKind
from desk.errors import InvalidInput, NotFound
from desk.services import audit, intake, problem_audit, problems, sla_state, tickets

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ENGINEER = "U0ENGINEER1"
CHANNELS = {"cherwell": "C0CHERWELL", "fife": "C0FIFE0001", "belfast": "C0BELFAST1"}


def raise_ticket(session: Session, council: str, title: str = "GOV.UK Pay is timing out", *, ts: str = "1.1",
                 at: datetime = MONDAY, thread: bool = True):
    return tickets.open_ticket(session, council_id=council, title=title, actor="U0COUNCIL", at=at,
                               slack_channel=CHANNELS[council] if thread else None, slack_ts=ts if thread else None)


def open_pay_problem(session: Session, from_ticket=None, match=("gov.uk pay",)):
    return problems.open_problem(session, title="GOV.UK Pay timeouts (Cherwell, Fife)", summary="Card payments "
                                 "through GOV.UK Pay are timing out.", owner=ENGINEER, by=ENGINEER, now=MONDAY,
                                 from_ticket=from_ticket, match=match)


def posts(session: Session) -> list[OutboxRow]:
    return list(session.exec(select(OutboxRow).where(OutboxRow.kind == problems.POST_KIND)
                             .order_by(OutboxRow.id)).all())


def events(session: Session, ticket, type: str) -> list[TicketEventRow]:
    return list(queries.list_ticket_events(session, ticket.id, types=(type,)))


def test_a_problem_started_from_a_ticket_links_it_and_matches_its_category(session: Session) -> None:
    origin = raise_ticket(session, "cherwell")
    problem = open_pay_problem(session, from_ticket=origin.ref)
    assert (problem.status, problem.category, problem.from_ticket_id) == ("investigating", origin.category, origin.id)
    assert [t.ref for t in problems.linked_tickets(session, problem.id)] == [origin.ref]
    linked = events(session, origin, "problem_linked")
    assert [e.data for e in linked] == [{"problem": "PRB-1", "how": "origin"}]  # the ref only, never the title
    assert [e.type for e in problem_audit.list_events(session)] == ["opened", "linked"]


def test_linking_is_idempotent_and_a_ticket_has_one_problem_at_a_time(session: Session) -> None:
    first, second = open_pay_problem(session), problems.open_problem(
        session, title="BACS format", summary="", owner=None, by=ENGINEER, now=MONDAY)
    ticket = raise_ticket(session, "fife")
    assert problems.link(session, first.id, ticket.ref, by=ENGINEER, now=MONDAY) is True
    assert problems.link(session, first.id, ticket.ref, by=ENGINEER, now=MONDAY) is False  # a double click
    with pytest.raises(InvalidInput, match="FIFE-1 is linked to PRB-1: unlink it first"):
        problems.link(session, second.id, ticket.ref, by=ENGINEER, now=MONDAY)
    assert problems.unlink(session, first.id, ticket.ref, by=ENGINEER, now=MONDAY) is True
    assert problems.unlink(session, first.id, ticket.ref, by=ENGINEER, now=MONDAY) is False
    assert problems.link(session, "PRB-2", ticket, by=ENGINEER, now=MONDAY) is True
    assert [e.type for e in queries.list_ticket_events(session, ticket.id)
            if e.type.startswith("problem")] == ["problem_linked", "problem_unlinked", "problem_linked"]
    with pytest.raises(NotFound, match="no problem 'PRB-9'"):
        problems.link(session, "PRB-9", ticket, by=ENGINEER, now=MONDAY)
    with pytest.raises(InvalidInput, match="not a way of linking"):
        problems.link(session, first.id, ticket, by=ENGINEER, now=MONDAY, how="telepathy")


def test_an_update_is_each_open_tickets_public_reply_with_one_post_each(session: Session) -> None:
    problem = open_pay_problem(session)
    chw, fife = raise_ticket(session, "cherwell"), raise_ticket(session, "fife")
    no_thread = raise_ticket(session, "belfast", thread=False)
    done = raise_ticket(session, "belfast", ts="1.2")
    tickets.resolve(session, ref=done.ref, note="fixed already", actor=ENGINEER, at=MONDAY)
    for t in (chw, fife, no_thread, done):
        problems.link(session, problem.id, t.ref, by=ENGINEER, now=MONDAY)
    later = MONDAY + timedelta(minutes=20)
    result = problems.update_problem(session, problem.id, by=ENGINEER, now=later, key="act-1",
                                     public_text="We have raised it with GOV.UK Pay.")
    assert result.posted_to == ["CHW-1", "FIFE-1"] and not result.repeated
    for t in (chw, fife):
        session.refresh(t)
        assert t.status == "in_progress"
        replied = events(session, t, "replied")[-1]
        assert replied.data == {"text": "We have raised it with GOV.UK Pay.", "problem": "PRB-1"}
        sla = sla_state.load(session, t, sla_state.policy_for(session, t))
        assert sla.respond.stopped_at == later  # the update met the respond target
    assert events(session, no_thread, "replied") == []  # no conversation: nothing said, nothing met
    rows = posts(session)
    assert [(r.idempotency_key, r.target, r.council_id) for r in rows] == [
        (f"problem_post:1:{events(session, chw, 'replied')[-1].seq}:CHW-1", "C0CHERWELL", "cherwell"),
        (f"problem_post:1:{events(session, fife, 'replied')[-1].seq}:FIFE-1", "C0FIFE0001", "fife")]
    assert problems.thread_post(session, rows[1].payload).text == "We have raised it with GOV.UK Pay."


def test_a_repeated_update_has_no_second_effect(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    first = problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="act-1", public_text="On it")
    again = problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY + timedelta(seconds=3),
                                    key="act-1", public_text="On it")
    assert again.repeated and (again.seq, again.posted_to) == (first.seq, first.posted_to)
    assert len(posts(session)) == 1
    assert len(events(session, queries.get_ticket(session, "CHW-1"), "replied")) == 1


def test_a_workaround_makes_a_known_error_and_is_told(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    with pytest.raises(InvalidInput, match="a known error has a workaround"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k0", status="known error")
    result = problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k1",
                                     workaround="Take card payments by phone.")
    assert result.problem.status == "known_error"
    assert problems.thread_post(session, posts(session)[0].payload).text == (
        "Workaround: Take card payments by phone.\n\n(Status: known error.)")
    view = problems.problem_view(session, problem.id, now=MONDAY)
    assert [(h.status_from, h.status_to) for h in view.history] == [(None, "investigating"),
                                                                     ("investigating", "known_error")]
    with pytest.raises(InvalidInput, match="to withdraw it, move the problem to another status"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k2", workaround="")
    withdrawn = problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k3", workaround="",
                                        status="identified", public_text="The workaround no longer works.")
    assert (withdrawn.problem.status, withdrawn.problem.workaround) == ("identified", None)


def test_silent_changes_post_nothing_and_an_empty_update_is_refused(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    result = problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k1", owner="U0ENGINEER2",
                                     match=["gov.uk pay", "payment timeout"])
    assert result.posted_to == [] and posts(session) == []
    assert result.problem.match == ["gov.uk pay", "payment timeout"]
    with pytest.raises(InvalidInput, match="nothing to update"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k2", owner="U0ENGINEER2")
    with pytest.raises(InvalidInput, match="not a problem status"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k3", status="panicking")
    with pytest.raises(InvalidInput, match="resolve a problem with its resolution note"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k4", status="resolved")


def test_resolving_resolves_every_linked_open_ticket_at_that_instant(session: Session) -> None:
    problem = open_pay_problem(session)
    chw, fife, bel = (raise_ticket(session, c) for c in ("cherwell", "fife", "belfast"))
    for t in (chw, fife, bel):
        problems.link(session, problem.id, t.ref, by=ENGINEER, now=MONDAY)
    problems.unlink(session, problem.id, bel.ref, by=ENGINEER, now=MONDAY)  # kept open on purpose
    at = MONDAY + timedelta(hours=2)
    resolved = problems.resolve_problem(session, problem.id, by=ENGINEER, now=at, note="GOV.UK Pay fixed it.",
                                        key="view-1")
    assert [t.ref for t in resolved] == ["CHW-1", "FIFE-1"]
    for t in (chw, fife):
        session.refresh(t)
        sla = sla_state.load(session, t, sla_state.policy_for(session, t))
        assert (t.status, t.resolved_at, sla.current_resolve.stopped_at) == ("resolved", at, at)
        assert events(session, t, "resolved")[-1].data["note"] == "GOV.UK Pay fixed it."
    session.refresh(bel)
    assert bel.status == "new"
    resolutions = session.exec(select(OutboxRow).where(OutboxRow.kind == "resolution")).all()
    assert sorted(r.payload["ref"] for r in resolutions) == ["CHW-1", "FIFE-1"]  # each asked for a rating
    again = problems.resolve_problem(session, problem.id, by=ENGINEER, now=at, note="GOV.UK Pay fixed it.",
                                     key="view-1")
    assert [t.ref for t in again] == ["CHW-1", "FIFE-1"]
    assert len(session.exec(select(OutboxRow).where(OutboxRow.kind == "resolution")).all()) == 2
    with pytest.raises(InvalidInput, match="PRB-1 is resolved"):
        problems.resolve_problem(session, problem.id, by=ENGINEER, now=at, note="again", key="view-2")
    with pytest.raises(InvalidInput, match="PRB-1 is resolved"):
        problems.link(session, problem.id, bel.ref, by=ENGINEER, now=at)


def test_the_problems_chain_verifies_and_catches_edits_and_truncation(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k1", public_text="On it")
    assert problem_audit.verify(session).ok
    assert all(report.ok for report in audit.verify_all(session))  # the councils' chains hold too
    rows = problem_audit.list_events(session)
    edited = rows[2]
    edited.data = {**edited.data, "text": "Nothing to see"}
    session.add(edited)
    session.flush()
    report = problem_audit.verify(session)
    assert (report.ok, report.broken_at) == (False, 3)
    edited.data = {**edited.data, "text": "On it"}
    session.add(edited)
    session.flush()
    assert problem_audit.verify(session).ok
    session.delete(rows[-1])
    session.flush()
    report = problem_audit.verify(session)
    assert not report.ok and "events were removed" in (report.reason or "")


def council_actor(council: str, user: str = "U0ALICE001") -> Actor:
    return Actor(user=user, team=f"T0{council.upper()}", kind=ActorKind.COUNCIL, council_id=council)


def test_intake_links_a_matching_ticket_to_an_open_problem(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k1",
                            public_text="GOV.UK Pay is investigating.")
    later = MONDAY + timedelta(hours=1)
    opened = intake.open_request(session, actor=council_actor("belfast"), text="Gov.UK pay keeps timing out",
                                 at=later, requester="U0BEL", channel="C0BELFAST1", ts="2.1")
    assert opened.problem_id == problem.id
    known = problems.known_problem_for(session, opened.ticket)
    assert (known.ref, known.status_label, known.latest_update) == ("PRB-1", "investigating",
                                                                    "GOV.UK Pay is investigating.")
    assert events(session, opened.ticket, "problem_linked")[0].data == {"problem": "PRB-1", "how": "auto"}
    other = intake.open_request(session, actor=council_actor("fife", "U0BRUCE001"), text="Report needed",
                                at=later, requester="U0BRUCE001", channel="C0FIFE0001", ts="2.2")
    assert other.problem_id is None and problems.known_problem_for(session, other.ticket) is None
    problems.resolve_problem(session, problem.id, by=ENGINEER, now=later, note="fixed", key="r")
    after = intake.open_request(session, actor=council_actor("fife", "U0BRUCE001"), text="GOV.UK Pay down",
                                at=later, requester="U0BRUCE001", channel="C0FIFE0001", ts="2.3")
    assert after.problem_id is None  # a resolved problem takes nothing


def test_the_problem_view_lists_tickets_by_council_with_their_sla(session: Session) -> None:
    problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    problems.link(session, problem.id, raise_ticket(session, "fife").ref, by=ENGINEER, now=MONDAY)
    view = problems.problem_view(session, "PRB-1", now=MONDAY + timedelta(days=3))
    assert list(view.tickets_by_council) == ["cherwell", "fife"]
    assert view.problem.tickets == 2 and view.problem.councils == 2
    assert view.tickets_by_council["fife"][0].sla_state.startswith("breached")
    assert [p.ref for p in problems.list_problems(session, open_only=True)] == ["PRB-1"]
    assert problems.problem_for_ticket(session, "FIFE-1").as_json() == {
        "ref": "PRB-1", "summary": "Card payments through GOV.UK Pay are timing out.", "status": "investigating"}


def test_an_open_problem_cannot_move_to_the_status_it_has(session: Session) -> None:
    problem = open_pay_problem(session)
    with pytest.raises(InvalidInput, match="nothing to update"):
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k", status="investigating")
    problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="k2", status="identified")
    assert problems.get_problem(session, 1).status == "identified"
    assert session.exec(select(ProblemEventRow)).all()[-1].data["status"] == {"from": "investigating",
                                                                              "to": "identified"}


def test_a_double_click_racing_itself_updates_and_links_once(synced) -> None:
    """Two requests at the same instant (a double click, a redelivery while the first is still working),
    each in its own transaction: one effect. On PostgreSQL the chain head's row lock makes the second wait
    for the first, then find its key."""
    import threading

    from desk.db.engine import unit_of_work

    with unit_of_work(synced) as session:
        problem = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
        raise_ticket(session, "fife")
        problem_id = problem.id
    start, results, errors = threading.Barrier(4), [], []

    def update() -> None:
        start.wait()
        try:
            with unit_of_work(synced) as session:
                results.append(problems.update_problem(session, problem_id, by=ENGINEER, now=MONDAY, key="act-9",
                                                       public_text="Same words").repeated)
        except Exception as err:  # noqa: BLE001  (reported below, with the other thread's outcome)
            errors.append(err)

    def link() -> None:
        start.wait()
        try:
            with unit_of_work(synced) as session:
                results.append(problems.link(session, problem_id, "FIFE-1", by=ENGINEER, now=MONDAY))
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=f) for f in (update, update, link, link)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [False, False, True, True]  # one repeat and one "already linked"
    with unit_of_work(synced) as session:
        updated = [e for e in problem_audit.list_events(session) if e.type == "updated"]
        assert len(updated) == 1
        # FIFE-1 may have been linked before or after the update: each linked ticket then got one post
        assert "CHW-1" in updated[0].data["posted_to"]
        assert sorted(r.payload["ref"] for r in posts(session)) == sorted(updated[0].data["posted_to"])
        assert len([e for e in problem_audit.list_events(session) if e.type == "linked"]) == 2  # origin + FIFE-1
        assert problem_audit.verify(session).ok


def test_bad_input_is_refused_naming_what_is_wrong_and_changes_nothing(session: Session) -> None:
    origin = raise_ticket(session, "cherwell")
    open_pay_problem(session, from_ticket=origin.ref)
    with pytest.raises(InvalidInput, match="CHW-1 is linked to PRB-1: unlink it first"):
        problems.open_problem(session, title="Again", summary="", owner=None, by=ENGINEER, now=MONDAY,
                              from_ticket=origin.ref)
    with pytest.raises(InvalidInput, match="a title is required"):
        problems.open_problem(session, title="  ", summary="", owner=None, by=ENGINEER, now=MONDAY)
    with pytest.raises(InvalidInput, match="an update is at most 2500 characters"):
        problems.update_problem(session, 1, by=ENGINEER, now=MONDAY, key="k", public_text="x" * 2501)
    with pytest.raises(InvalidInput, match="a resolution note is required"):
        problems.resolve_problem(session, 1, by=ENGINEER, now=MONDAY, note=" ", key="r")
    assert [p.ref for p in problems.list_problems(session)] == ["PRB-1"]
    assert [e.type for e in problem_audit.list_events(session)] == ["opened", "linked"]
    assert posts(session) == []


def test_a_councils_digest_names_only_problems_its_own_tickets_joined(session: Session) -> None:
    from desk.rendering.digests import render_council, render_managers
    from desk.services import digests

    fife_only = problems.open_problem(session, title="BACS format for Fife", summary="Bank files are rejected.",
                                      owner=None, by=ENGINEER, now=MONDAY, from_ticket=raise_ticket(session, "fife"))
    shared = open_pay_problem(session, from_ticket=raise_ticket(session, "cherwell"))
    problems.link(session, shared.id, raise_ticket(session, "belfast").ref, by=ENGINEER, now=MONDAY)
    earlier = problems.open_problem(session, title="Old", summary="Fixed last year.", owner=None, by=ENGINEER,
                                    now=MONDAY - timedelta(days=30), from_ticket=raise_ticket(
                                        session, "cherwell", ts="0.9", at=MONDAY - timedelta(days=30)))
    problems.resolve_problem(session, earlier.id, by=ENGINEER, now=MONDAY - timedelta(days=29), note="done", key="r")
    cherwell = digests.council_digest(session, council_id="cherwell", week="2026-W03")
    assert [(p.ref, p.status_label) for p in cherwell.problems] == [("PRB-2", "investigating")]
    text = render_council(cherwell).text
    assert "PRB-2 (investigating): Card payments through GOV.UK Pay are timing out." in text
    assert "PRB-1" not in text and "BACS" not in text and "Fife" not in text and "Belfast" not in text
    managers = digests.managers_digest(session, week="2026-W03")
    assert [(p.ref, p.tickets, p.councils) for p in managers.problems] == [
        ("PRB-1", 1, ("fife",)), ("PRB-2", 2, ("belfast", "cherwell"))]  # PRB-3 was resolved weeks before
    assert "*Problems this week:* 2" in render_managers(managers).text
    assert fife_only.id == 1


def test_a_councils_digest_counts_a_link_only_while_it_held_during_the_week(session: Session) -> None:
    from desk.services.problem_reports import council_problems

    week_ago = MONDAY - timedelta(days=7)  # W02 is (week_ago, MONDAY], W03 (MONDAY, MONDAY + 7 days]
    problem = problems.open_problem(session, title="BACS format", summary="Bank files are rejected.", owner=None,
                                    by=ENGINEER, now=week_ago + timedelta(hours=1),
                                    from_ticket=raise_ticket(session, "fife", at=week_ago))
    unlinked = raise_ticket(session, "cherwell", "Bank file", ts="1.2", at=week_ago)
    problems.link(session, problem.id, unlinked.ref, by=ENGINEER, now=week_ago + timedelta(hours=2))
    problems.unlink(session, problem.id, unlinked.ref, by=ENGINEER, now=MONDAY)  # before W03 began
    later = raise_ticket(session, "belfast", "Bank file", ts="1.3")
    problems.link(session, problem.id, later.ref, by=ENGINEER, now=MONDAY + timedelta(days=7, minutes=1))

    def listed(council: str, starts_at: datetime) -> list[str]:
        return [p.ref for p in council_problems(session, council, starts_at, starts_at + timedelta(days=7))]

    assert (listed("cherwell", week_ago), listed("cherwell", MONDAY)) == (["PRB-1"], [])
    assert (listed("belfast", MONDAY), listed("belfast", MONDAY + timedelta(days=7))) == ([], ["PRB-1"])
    assert listed("fife", MONDAY) == ["PRB-1"]
