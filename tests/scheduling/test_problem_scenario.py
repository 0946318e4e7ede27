"""Issue 14's scenario through the services and the worker, against the Slack stand-in: three councils'
GOV.UK Pay tickets, one problem, two updates, resolved together. Each council's channel gets only its own
thread's posts; the audit chains verify; the managers' digest shows the problem. Then the outbox's promise:
each update reaches each thread exactly once, even when a worker dies halfway."""

from __future__ import annotations

from sqlmodel import select

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.rendering.digests import render_council, render_managers
from desk.services import audit, digests, dispatch, problem_audit, problems, tickets
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ENGINEER, MONDAY

THREADS = {"cherwell": ("C0CHERWELL", "1767603600.000100"), "fife": ("C0FIFE0001", "1767603600.000200"),
           "belfast": ("C0BELFAST1", "1767603600.000300")}
WORDS = {"cherwell": "GOV.UK Pay times out at the counter", "fife": "Card payments failing (GOV.UK Pay)",
         "belfast": "GOV.UK Pay errors since 9am"}


def raise_tickets(rig: Rig) -> dict[str, str]:
    refs = {}
    with unit_of_work(rig.engine) as session:
        for council, (channel, ts) in THREADS.items():
            rig.slack.add_message({"type": "message", "user": "U0PERSON", "text": WORDS[council], "ts": ts}, channel)
            refs[council] = tickets.open_ticket(session, council_id=council, title=WORDS[council], actor="U0PERSON",
                                                at=MONDAY, slack_channel=channel, slack_ts=ts).ref
    return refs


def thread_posts(rig: Rig, council: str) -> list[str]:
    channel, ts = THREADS[council]
    return [c.args.get("text", "") for c in rig.posts() if c.args["channel"] == channel
            and c.args.get("thread_ts") == ts]


def everything_posted_in(rig: Rig, council: str) -> str:
    channel = THREADS[council][0]
    return repr([c.args for c in rig.slack.calls if c.args.get("channel") == channel])


def test_one_problem_three_councils_two_updates_resolved_together(rig: Rig) -> None:
    refs = raise_tickets(rig)
    with unit_of_work(rig.engine) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay timeouts: Cherwell, Fife, Belfast",
                                        summary="Card payments through GOV.UK Pay are timing out.", owner=ENGINEER,
                                        by=ENGINEER, now=MONDAY, from_ticket=refs["cherwell"], match=["gov.uk pay"])
        for council in ("fife", "belfast"):
            problems.link(session, problem.id, refs[council], by=ENGINEER, now=MONDAY)
        problem_id = problem.id
    rig.clock.advance(minutes=10)
    with unit_of_work(rig.engine) as session:
        problems.update_problem(session, problem_id, by=ENGINEER, now=rig.clock.now(), key="u1",
                                public_text="GOV.UK Pay have confirmed an incident.")
    rig.worker().dispatch()
    rig.clock.advance(minutes=30)
    with unit_of_work(rig.engine) as session:
        problems.update_problem(session, problem_id, by=ENGINEER, now=rig.clock.now(), key="u2",
                                workaround="Take card payments by phone until it is fixed.")
        problems.update_problem(session, problem_id, by=ENGINEER, now=rig.clock.now(), key="u2",
                                workaround="Take card payments by phone until it is fixed.")  # a double click
    rig.worker().dispatch()
    rig.clock.advance(hours=1)
    with unit_of_work(rig.engine) as session:
        resolved = problems.resolve_problem(session, problem_id, by=ENGINEER, now=rig.clock.now(),
                                            note="GOV.UK Pay fixed the timeouts.", key="r1")
        assert sorted(t.ref for t in resolved) == sorted(refs.values())
    rig.worker().dispatch()
    rig.worker().dispatch()  # a second pass finds nothing left to send

    for council, ref in refs.items():
        said = thread_posts(rig, council)
        assert len(said) == 3, (council, said)
        assert "GOV.UK Pay have confirmed an incident." in said[0]
        assert "Take card payments by phone" in said[1]
        assert "GOV.UK Pay fixed the timeouts." in said[2]  # the ticket's own resolution message
        seen = everything_posted_in(rig, council)
        others = [r for c, r in refs.items() if c != council]
        assert ref in seen and not any(other in seen for other in others)
        assert not any(name in seen for name in ("Cherwell", "Fife", "Belfast"))  # not even the title
    with unit_of_work(rig.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.kind.in_(["problem_post", "resolution"]))).all()
        assert {r.status for r in rows} == {"sent"} and len(rows) == 9
        assert all(report.ok for report in audit.verify_all(session))
        assert problem_audit.verify(session).ok
        managers = render_managers(digests.managers_digest(session, week="2026-W03")).text
        council = render_council(digests.council_digest(session, council_id="cherwell", week="2026-W03")).text
    assert "*Problems this week:* 1" in managers
    assert ("PRB-1 GOV.UK Pay timeouts: Cherwell, Fife, Belfast (resolved): 3 tickets from 3 councils "
            "(belfast, cherwell, fife), resolved in 1h 40m") in managers
    assert "PRB-1 (resolved): Card payments through GOV.UK Pay are timing out." in council
    assert "Fife" not in council and "FIFE-" not in council and "BEL-" not in council


def test_a_worker_that_dies_halfway_leaves_each_thread_one_post(rig: Rig) -> None:
    refs = raise_tickets(rig)
    with unit_of_work(rig.engine) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay", summary="Payments time out.", owner=None,
                                        by=ENGINEER, now=MONDAY, from_ticket=refs["cherwell"])
        for council in ("fife", "belfast"):
            problems.link(session, problem.id, refs[council], by=ENGINEER, now=MONDAY)
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="u1", public_text="Looking now.")
    first = rig.worker()
    assert first.dispatcher.run_once(limit=1, kinds=("problem_post",)).sent == 1  # one thread told...
    with unit_of_work(rig.engine) as session:  # ...then a worker claims the rest and dies before posting
        assert len(dispatch.claim(session, now=rig.clock.now(), kinds=("problem_post",))) == 2
    assert rig.worker().dispatch().sent == 0  # their lease holds them: nobody posts twice meanwhile
    rig.clock.advance(seconds=dispatch.LEASE.total_seconds() + 1)
    assert rig.worker().dispatch().sent == 2  # a restarted worker sends what was left
    assert rig.worker().dispatch().sent == 0
    for council in THREADS:
        assert len([t for t in thread_posts(rig, council) if "Looking now." in t]) == 1, council


def test_an_update_after_the_post_failed_is_retried_not_lost(rig: Rig) -> None:
    refs = raise_tickets(rig)
    with unit_of_work(rig.engine) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay", summary="", owner=None, by=ENGINEER,
                                        now=MONDAY, from_ticket=refs["fife"])
        problems.update_problem(session, problem.id, by=ENGINEER, now=MONDAY, key="u1", public_text="Looking now.")
    rig.slack.inject("chat.postMessage", error="internal_error")
    report = rig.worker().dispatch()
    assert (report.sent, report.retried) == (0, 1)
    rig.clock.advance(minutes=5)
    assert rig.worker().dispatch().sent == 1
    assert len(thread_posts(rig, "fife")) == 1
