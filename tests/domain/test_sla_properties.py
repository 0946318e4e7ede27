"""Properties of the SLA engine over random ticket histories (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.domain.sla import MetricRun, TicketSla
from desk.domain.sla_replay import ReplayEvent, replay, report, state_as_of
from tests.domain.test_sla import POLICY

PRIORITIES = ["P1", "P2", "P3", "P4"]
START = datetime(2026, 1, 1, tzinfo=UTC)

event = st.one_of(
    st.just(("replied", None)),
    st.tuples(st.just("status"), st.sampled_from(["in_progress", "waiting_on_council"])),
    st.tuples(st.just("priority"), st.sampled_from(PRIORITIES)),
    st.just(("resolved", None)),
    st.just(("reopened", None)),
)


@st.composite
def histories(draw) -> list[ReplayEvent]:
    opened = START + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60)))
    events = [ReplayEvent(opened, "opened", priority=draw(st.sampled_from(PRIORITIES)))]
    at, resolved = opened, False
    for kind, arg in draw(st.lists(event, max_size=8)):
        at += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        if kind == "reopened" and not resolved or kind in ("replied", "status", "priority") and resolved:
            continue  # keep to what the lifecycle allows
        resolved = kind == "resolved" or (resolved and kind != "reopened")
        events.append(ReplayEvent(at, kind, priority=arg if kind == "priority" else None,
                                  status=arg if kind == "status" else None))
    return events


def keys(result: dict) -> list[tuple]:
    return [(n["metric"], n["cycle"], n["threshold"], n.get("repeat", 0)) for n in result["notifications"]]


common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(histories(), st.integers(0, 10 * 24 * 60), st.integers(0, 10 * 24 * 60))
def test_later_as_of_only_adds_notifications_and_never_undoes_a_breach(events, extra1, extra2) -> None:
    first_as_of = events[-1].at + timedelta(minutes=min(extra1, extra2))
    second_as_of = events[-1].at + timedelta(minutes=max(extra1, extra2))
    early = report(replay(POLICY, events, first_as_of))
    late = report(replay(POLICY, events, second_as_of))
    assert late["notifications"][: len(early["notifications"])] == early["notifications"]
    if early["respond"]["breached"]:
        assert late["respond"]["breached_at"] == early["respond"]["breached_at"]
    for before, after in zip(early["resolve"], late["resolve"], strict=True):
        if before["breached"]:
            assert after["breached_at"] == before["breached_at"]


@common
@given(histories(), st.integers(0, 10 * 24 * 60))
def test_each_step_fires_at_most_once_and_in_time_order(events, extra) -> None:
    result = report(replay(POLICY, events, events[-1].at + timedelta(minutes=extra)))
    assert len(keys(result)) == len(set(keys(result)))
    instants = [n["at"] for n in result["notifications"]]
    assert instants == sorted(instants)


@common
@given(histories(), st.integers(0, 10 * 24 * 60))
def test_a_live_ticket_swept_as_it_goes_matches_the_replay(events, extra) -> None:
    """The live path (apply each change, sweep what is due) and the replay are one engine."""
    as_of = events[-1].at + timedelta(minutes=extra)
    expected = replay(POLICY, events, as_of)
    sla = TicketSla.open(POLICY, events[0].priority, events[0].at)
    sent = []
    for e in events[1:] + [ReplayEvent(as_of, "sweep")]:
        while (due := sla.next_step_at()) is not None and (due < e.at or e.type == "sweep" and due <= e.at):
            sent.append(sla.take_due(due).sent)
        match e.type:
            case "replied":
                sla.reply(e.at)
            case "status":
                sla.set_status(e.status, e.at)
            case "priority":
                sla.change_priority(e.priority, e.at)
            case "resolved":
                sla.resolve(e.at)
            case "reopened":
                sla.reopen(e.at)
    assert [vars(r) for r in sla.runs] == [vars(r) for r in expected.sla.runs]
    assert sent == [c.sent for c in expected.notifications]


@common
@given(histories())
def test_a_met_target_was_stopped_by_its_due_instant(events) -> None:
    result = report(replay(POLICY, events, events[-1].at))
    respond = result["respond"]
    if respond["met_at"] and not respond["breached"]:
        assert respond["met_at"] <= respond["due_at"]
    for cycle in result["resolve"]:
        if cycle["stopped_at"] and cycle["breached"]:
            assert cycle["breached_at"] <= cycle["stopped_at"]
        if cycle["paused"]:
            assert cycle["due_at"] is None


@common
@given(histories(), st.integers(-3 * 24 * 60, 10 * 24 * 60))
def test_the_state_without_steps_is_the_replays_but_for_the_steps_taken(events, extra) -> None:
    """What digests read (`state_as_of`) is the replay's state; only `fired` is left empty. `as_of` falls
    anywhere from the opening on, between events too."""
    as_of = max(events[0].at, events[-1].at + timedelta(minutes=extra))
    expected, state = replay(POLICY, events, as_of).sla, state_as_of(POLICY, events, as_of)
    assert (state.status, state.priority) == (expected.status, expected.priority)

    def fields(run: MetricRun) -> dict:
        return {**vars(run), "fired": {}, "breached_at": run.breached_as_of(as_of)}

    assert [fields(r) for r in state.runs] == [fields(r) for r in expected.runs]
    assert [r.breached_at for r in state.runs if not r.running] == \
           [r.breached_at for r in expected.runs if not r.running]
    assert all(not run.fired for run in state.runs)
