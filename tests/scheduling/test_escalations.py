"""Escalations end to end through the worker: instants, once-only, restarts, outages, crashes, Slack faults.

Test playbook (tests/fixtures/playbooks/standard.yaml): P1 is 24x7, respond 30m, resolve 4h; steps are
respond 75 % → triage, respond 100 % → duty lead (U0DUTYLEAD), resolve 75 % → assignee,
resolve 100 % → service manager (U0MANAGER), repeated every 2h.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.services import dispatch, escalation, tickets
from tests.scheduling.conftest import Rig
from tests.slack.conftest import ALICE, MONDAY

P1_TITLE = "We cannot take card payments at all"


def open_p1(rig: Rig, **kwargs) -> str:
    with unit_of_work(rig.engine) as session:
        return tickets.open_ticket(session, council_id="cherwell", title=P1_TITLE, actor=ALICE, at=rig.clock.now(),
                                   requester=ALICE, **kwargs).ref


def at(rig: Rig, **delta: float) -> None:
    rig.clock.at = MONDAY + timedelta(**delta)


def sent_to(rig: Rig) -> list[tuple[str, str]]:
    """(channel, what) for every message the worker posted."""
    out = []
    for call in rig.posts():
        text = call.args.get("text", "")
        out.append((call.args["channel"], "breach" if "breached" in text else "warning"))
    return out


def outbox(rig: Rig) -> list[OutboxRow]:
    with unit_of_work(rig.engine) as session:
        return list(session.exec(select(OutboxRow).order_by(OutboxRow.id)).all())


def test_a_warning_and_a_breach_fire_at_their_instants_once(rig: Rig) -> None:
    open_p1(rig)
    work = rig.worker()
    at(rig, minutes=22, seconds=29)
    assert work.run_once()["escalations"] == 0
    at(rig, minutes=22, seconds=30)  # 75 % of 30 minutes
    assert work.run_once()["sent"] == 1
    assert sent_to(rig) == [("C0TRIAGE", "warning")]
    at(rig, minutes=29, seconds=59)
    work.run_once()
    at(rig, minutes=30)
    work.run_once()
    assert sent_to(rig) == [("C0TRIAGE", "warning"), ("U0DUTYLEAD", "breach")]
    for _ in range(3):
        work.run_once()
    assert len(rig.posts()) == 2


def test_a_restart_between_steps_loses_and_duplicates_nothing(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=23)
    rig.worker().run_once()
    # the process dies; a new one starts later
    at(rig, minutes=31)
    rig.worker().run_once()
    rig.worker().run_once()
    assert sent_to(rig) == [("C0TRIAGE", "warning"), ("U0DUTYLEAD", "breach")]


def test_after_an_outage_each_ticket_gets_only_its_most_severe_step(rig: Rig) -> None:
    open_p1(rig)
    open_p1(rig)
    at(rig, hours=5)  # respond 75/100, resolve 75/100 all passed while the worker was down
    result = rig.worker().run_once()
    assert (result["swept_tickets"], result["escalations"], result["superseded"]) == (2, 2, 6)
    assert sent_to(rig) == [("U0MANAGER", "breach"), ("U0MANAGER", "breach")]
    with unit_of_work(rig.engine) as session:
        from desk.db import queries

        events = queries.list_ticket_events(session, queries.get_ticket(session, "CHW-1").id, types=("escalated",))
    assert [(e.data["metric"], e.data["threshold"], len(e.data["superseded"])) for e in events] == [("resolve", 100, 3)]


def test_breach_repeats_on_schedule(rig: Rig) -> None:
    open_p1(rig)
    with unit_of_work(rig.engine) as session:
        tickets.reply(session, ref="CHW-1", text="looking", actor="U0ENGINEER1", at=MONDAY + timedelta(minutes=1))
    work = rig.worker()
    for hours in (3, 4, 5, 6, 7, 8):
        at(rig, hours=hours)
        work.run_once()
    # 3h: resolve 75 % (unassigned: the triage channel); 4h: breach; 6h and 8h: repeats
    assert sent_to(rig) == [("C0TRIAGE", "warning"), ("U0MANAGER", "breach"), ("U0MANAGER", "breach"),
                            ("U0MANAGER", "breach")]
    assert "reminder 2" in json.dumps(rig.posts()[-1].args["blocks"])


def test_a_crash_after_writing_the_outbox_row_still_sends_after_restart(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=23)
    with unit_of_work(rig.engine) as session:
        escalation.sweep(session, now=rig.clock.now())  # ...and the process dies before dispatching
    assert [r.status for r in outbox(rig)] == ["pending"]
    rig.worker().run_once()
    assert [r.status for r in outbox(rig)] == ["sent"] and len(rig.posts()) == 1


def test_a_crash_after_claiming_is_recovered_when_the_lease_runs_out(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=23)
    with unit_of_work(rig.engine) as session:
        escalation.sweep(session, now=rig.clock.now())
    with unit_of_work(rig.engine) as session:
        assert len(dispatch.claim(session, now=rig.clock.now())) == 1  # claimed, then the process dies
    rig.worker().run_once()
    assert rig.posts() == []  # still leased to the dead process
    at(rig, minutes=23 + 2)
    rig.worker().run_once()
    assert len(rig.posts()) == 1 and outbox(rig)[0].slack_ts == rig.posts()[0].response["ts"]


def test_resolving_before_dispatch_cancels_the_pending_escalation(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=31)
    with unit_of_work(rig.engine) as session:
        escalation.sweep(session, now=rig.clock.now())
        tickets.resolve(session, ref="CHW-1", note="fixed", actor="U0ENGINEER1", at=rig.clock.now())
    rig.worker().run_once()
    assert rig.posts() == [] and [r.status for r in outbox(rig)] == ["cancelled"]


def test_pausing_moves_the_steps_and_a_higher_priority_brings_them_forward(rig: Rig) -> None:
    with unit_of_work(rig.engine) as session:
        ref = tickets.open_ticket(session, council_id="cherwell", title="Report request", actor=ALICE,
                                  at=MONDAY, priority="P3").ref
        tickets.reply(session, ref=ref, text="ok", actor="U0ENGINEER1", at=MONDAY + timedelta(minutes=5))
        tickets.set_status(session, ref=ref, status="waiting_on_council", actor="U0ENGINEER1",
                           at=MONDAY + timedelta(minutes=10))
    at(rig, days=3)
    assert rig.worker().run_once()["escalations"] == 0  # paused: nothing falls due
    with unit_of_work(rig.engine) as session:
        tickets.set_status(session, ref=ref, status="in_progress", actor="U0ENGINEER1", at=rig.clock.now())
        tickets.change_priority(session, ref=ref, priority="P1", reason="now urgent", actor="U0ENGINEER1",
                                at=rig.clock.now())
    # P1 (24x7): 10 minutes were used while P3; 75 % of 4h (3h) is reached 2h50m after the change
    at(rig, days=3, hours=2, minutes=49)
    assert rig.worker().run_once()["escalations"] == 0
    at(rig, days=3, hours=2, minutes=50)
    assert rig.worker().run_once()["escalations"] == 1
    at(rig, days=3, hours=3, minutes=50)  # and the whole 4h, 3h50m after the change
    rig.worker().run_once()
    assert sent_to(rig) == [("C0TRIAGE", "warning"), ("U0MANAGER", "breach")]


def test_warnings_to_people_wait_for_the_next_working_window(rig: Rig) -> None:
    with unit_of_work(rig.engine) as session:
        ref = tickets.open_ticket(session, council_id="cherwell", title="Refund stuck", actor=ALICE, at=MONDAY,
                                  priority="P2").ref
        tickets.reply(session, ref=ref, text="ok", actor="U0ENGINEER1", at=MONDAY + timedelta(minutes=5))
        tickets.assign(session, ref=ref, assignee="U0ENGINEER1", actor="U0ENGINEER1", at=MONDAY)
    at(rig, hours=9)  # 18:00: resolve 75 % (6h of business time) fell due at 16:00 while the worker was down
    assert rig.worker().run_once()["sent"] == 0
    assert outbox(rig)[0].available_at == MONDAY + timedelta(days=1)  # Tuesday 09:00
    at(rig, days=1)
    rig.worker().run_once()
    assert sent_to(rig) == [("U0ENGINEER1", "warning")]


def test_a_429_delays_and_never_drops_the_notification(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=23)
    rig.slack.inject("chat.postMessage", times=3, rate_limited=1)  # more than the client's own retries
    first = rig.worker().run_once()
    assert (first["sent"], first["retried"]) == (0, 1)
    row = outbox(rig)[0]
    assert row.status == "pending" and row.available_at == rig.clock.now() + timedelta(seconds=1)
    at(rig, minutes=23, seconds=2)
    assert rig.worker().run_once()["sent"] == 1


def test_a_permanent_failure_is_given_up_visibly_with_an_alert(rig: Rig) -> None:
    open_p1(rig)
    at(rig, minutes=31)
    rig.slack.inject("chat.postMessage", times=1, error="channel_not_found")
    rig.worker().run_once()
    rows = outbox(rig)
    assert [(r.kind, r.status, r.last_error) for r in rows] == [
        ("escalation", "failed", "channel_not_found"), ("alert", "sent", None)]
    alert = rig.posts()[-1]
    assert alert.args["channel"] == "C0TRIAGE" and "channel_not_found" in json.dumps(alert.args["blocks"])
