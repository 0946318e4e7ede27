"""The SLA engine through `replay`, checked against figures worked out by hand.

Calendar for these tests: Europe/London, England & Wales, Mon-Fri 09:00-17:00 (no lunch: lunch breaks
are covered by the calendar's own tests). January 2026 is GMT, so local time = UTC; 5 Jan 2026 is a
Monday with no bank holiday near it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desk.domain.playbook import (
    CalendarSpec,
    ClockKind,
    EscalationStep,
    Metric,
    Playbook,
    PriorityTarget,
    Window,
)
from desk.domain.sla import SlaPolicy, TicketSla
from desk.domain.sla_replay import parse_history, replay, report
from desk.errors import InvalidInput

H, M = 3600, 60
NINE_TO_FIVE = (Window(9 * H, 17 * H),)
CALENDAR = CalendarSpec("Europe/London", "england-and-wales", (NINE_TO_FIVE,) * 5 + ((), ()))
PLAYBOOK = Playbook(
    id="test",
    name="Test",
    calendar=CALENDAR,
    priorities={
        "P1": PriorityTarget("P1", "Critical", 30 * M, 4 * H, ClockKind.ALWAYS),
        "P2": PriorityTarget("P2", "High", 1 * H, 8 * H),
        "P3": PriorityTarget("P3", "Medium", 4 * H, 24 * H),
        "P4": PriorityTarget("P4", "Low", 8 * H, 80 * H),
    },
    matrix={},
    escalations=(
        EscalationStep(0, Metric.RESPOND, 75, ("triage",)),
        EscalationStep(1, Metric.RESPOND, 100, ("duty_lead",)),
        EscalationStep(2, Metric.RESOLVE, 75, ("assignee",)),
        EscalationStep(3, Metric.RESOLVE, 100, ("service_manager",), repeat_every=2 * H),
    ),
)
POLICY = SlaPolicy.for_playbook(PLAYBOOK, CALENDAR)


def at(text: str) -> str:
    """'Mon 09:00' style shorthand in the week of Monday 5 January 2026 (GMT = UTC)."""
    day, clock = text.split()
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon2", "Tue2"]
    hour, minute, *second = (int(p) for p in clock.split(":"))
    moment = datetime(2026, 1, 5, hour, minute, second[0] if second else 0, tzinfo=UTC)
    return (moment + timedelta(days=days.index(day))).isoformat()


def run(events: list[dict], as_of: str | None = None) -> dict:
    _, parsed = parse_history({"council": "x", "events": events})
    return report(replay(POLICY, parsed, datetime.fromisoformat(as_of) if as_of else None))


def sent(result: dict) -> list[tuple]:
    return [(n["at"], n["metric"], n["cycle"], n["kind"], n["threshold"], n.get("repeat"))
            for n in result["notifications"]]


def test_business_targets_skip_nights_and_weekends() -> None:
    result = run([{"at": at("Fri 16:30"), "type": "opened", "priority": "P2"}], as_of=at("Mon2 09:15"))
    assert result["respond"]["due_at"] == at("Mon2 09:30")
    assert result["resolve"][0]["due_at"] == at("Mon2 16:30")  # 30m Friday + 7h30 Monday
    assert result["respond"]["breached"] is False
    # 75 % of 1h = 45m: 30m on Friday, 15m on Monday; Saturday and Sunday pass in silence
    assert sent(result) == [(at("Mon2 09:15"), "respond", 1, "warn", 75, None)]


def test_opened_outside_hours_starts_at_the_next_window() -> None:
    result = run([{"at": at("Sat 11:00"), "type": "opened", "priority": "P2"}])
    assert result["respond"]["due_at"] == at("Mon2 10:00")


def test_24x7_is_exact_to_the_second() -> None:
    result = run([{"at": at("Sat 10:00"), "type": "opened", "priority": "P1"}], as_of=at("Sat 10:30"))
    assert sent(result) == [
        (at("Sat 10:22:30"), "respond", 1, "warn", 75, None),
        (at("Sat 10:30"), "respond", 1, "breach", 100, None),
    ]
    assert result["respond"] == {"due_at": at("Sat 10:30"), "met_at": None, "breached": True,
                                 "breached_at": at("Sat 10:30")}


def test_a_reply_at_the_due_instant_meets_the_target_silently() -> None:
    result = run([{"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
                  {"at": at("Mon 10:00"), "type": "replied"}])
    assert result["respond"] == {"due_at": at("Mon 10:00"), "met_at": at("Mon 10:00"), "breached": False,
                                 "breached_at": None}
    assert [n[4] for n in sent(result)] == [75]


def test_a_late_reply_is_a_breach_at_the_due_instant() -> None:
    result = run([{"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
                  {"at": at("Mon 10:00:01"), "type": "replied"}])
    assert result["respond"]["breached_at"] == at("Mon 10:00")
    assert result["respond"]["met_at"] == at("Mon 10:00:01")


def test_pause_stops_the_resolve_clock_and_counts_paused_business_time() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 09:10"), "type": "replied"},
        {"at": at("Mon 10:00"), "type": "status", "status": "waiting_on_council"},
        {"at": at("Mon 14:00"), "type": "status", "status": "in_progress"},
    ])
    cycle = result["resolve"][0]
    # 1h used before the pause; 7h remain from 14:00: 3h Monday + 4h Tuesday
    assert cycle["due_at"] == at("Tue 13:00")
    assert cycle["paused"] is False
    assert cycle["paused_seconds"] == 4 * H


def test_a_running_pause_has_no_due_instant_and_counts_up_to_as_of() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 10:00"), "type": "status", "status": "waiting_on_council"},
    ], as_of=at("Tue 10:00"))
    cycle = result["resolve"][0]
    assert cycle["paused"] is True and cycle["due_at"] is None
    assert cycle["paused_seconds"] == 8 * H  # Mon 10-17 + Tue 9-10, business time
    # respond never pauses: it breached at 10:00 (75 % warned at 09:45)
    assert result["respond"]["breached_at"] == at("Mon 10:00")
    assert all(n[1] == "respond" for n in sent(result))  # no resolve step fires while paused


def test_raising_priority_past_its_target_breaches_at_the_change_and_coalesces() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P3"},
        {"at": at("Mon 11:00"), "type": "priority", "priority": "P2"},
    ], as_of=at("Mon 17:00"))
    # respond: 2h used of P2's 1h: breached at the change; 75 % and 100 % fall due together, one is sent
    assert result["respond"]["breached_at"] == at("Mon 11:00")
    # resolve: 2h used, P2's 8h leaves 6h from 11:00; 75 % of 8h = 6h used, 4h after the change
    assert result["resolve"][0]["due_at"] == at("Mon 17:00")
    assert sent(result) == [
        (at("Mon 11:00"), "respond", 1, "breach", 100, None),
        (at("Mon 15:00"), "resolve", 1, "warn", 75, None),
        (at("Mon 17:00"), "resolve", 1, "breach", 100, None),
    ]


def test_lowering_priority_keeps_elapsed_time() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 09:30"), "type": "priority", "priority": "P3"},
    ], as_of=at("Mon 13:00"))
    assert result["respond"]["due_at"] == at("Mon 13:00")  # 4h - 30m used = 3h30 from 09:30
    assert sent(result) == [
        (at("Mon 12:00"), "respond", 1, "warn", 75, None),  # 3h used
        (at("Mon 13:00"), "respond", 1, "breach", 100, None),
    ]


def test_a_breach_is_never_undone_nor_repeated_by_a_lower_priority() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 10:30"), "type": "priority", "priority": "P4"},
        {"at": at("Mon 11:00"), "type": "replied"},
    ], as_of=at("Mon 17:00"))
    assert result["respond"]["breached"] is True
    assert result["respond"]["breached_at"] == at("Mon 10:00")
    assert [n for n in sent(result) if n[1] == "respond"] == [
        (at("Mon 09:45"), "respond", 1, "warn", 75, None),
        (at("Mon 10:00"), "respond", 1, "breach", 100, None),
    ]


def test_priority_change_across_clocks_counts_the_rest_on_the_new_clock() -> None:
    # P2 (business) opened Friday 16:00 and raised to P1 (24x7) at 16:30, with 30m used.
    result = run([
        {"at": at("Fri 16:00"), "type": "opened", "priority": "P2"},
        {"at": at("Fri 16:30"), "type": "priority", "priority": "P1"},
    ], as_of=at("Fri 23:00"))
    # respond: 30m used = P1's whole target: breached at the change
    assert result["respond"]["breached_at"] == at("Fri 16:30")
    # resolve: 30m used of P1's 4h (24x7): due at 20:00 the same evening
    assert result["resolve"][0]["due_at"] == at("Fri 20:00")


def test_reopen_starts_a_new_full_cycle_and_respond_never_restarts() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 09:20"), "type": "replied"},
        {"at": at("Mon 12:00"), "type": "resolved"},
        {"at": at("Tue 09:00"), "type": "reopened"},
    ])
    assert result["respond"]["met_at"] == at("Mon 09:20")
    first, second = result["resolve"]
    assert (first["cycle"], first["stopped_at"], first["breached"]) == (1, at("Mon 12:00"), False)
    assert (second["cycle"], second["started_at"], second["due_at"]) == (2, at("Tue 09:00"), at("Tue 17:00"))


def test_breach_repeats_on_the_metric_clock_while_running() -> None:
    result = run([
        {"at": at("Sat 00:00"), "type": "opened", "priority": "P1"},
        {"at": at("Sat 00:10"), "type": "replied"},
    ], as_of=at("Sat 08:30"))
    assert [n for n in sent(result) if n[1] == "resolve"] == [
        (at("Sat 03:00"), "resolve", 1, "warn", 75, None),
        (at("Sat 04:00"), "resolve", 1, "breach", 100, None),
        (at("Sat 06:00"), "resolve", 1, "breach", 100, 1),
        (at("Sat 08:00"), "resolve", 1, "breach", 100, 2),
    ]


def test_repeats_stop_while_paused_and_resume_on_the_clock() -> None:
    result = run([
        {"at": at("Sat 00:00"), "type": "opened", "priority": "P1"},
        {"at": at("Sat 00:10"), "type": "replied"},
        {"at": at("Sat 05:00"), "type": "status", "status": "waiting_on_council"},
        {"at": at("Sat 09:00"), "type": "status", "status": "in_progress"},
    ], as_of=at("Sat 10:30"))
    repeats = [n for n in sent(result) if n[5]]
    # 5h used at the pause; repeat 1 needs 6h used: one more hour after 09:00
    assert repeats == [(at("Sat 10:00"), "resolve", 1, "breach", 100, 1)]


def test_resolved_through_a_status_event_stops_both_clocks() -> None:
    result = run([
        {"at": at("Mon 09:00"), "type": "opened", "priority": "P2"},
        {"at": at("Mon 09:30"), "type": "status", "status": "resolved"},
    ], as_of=at("Tue 17:00"))
    assert result["respond"]["met_at"] == at("Mon 09:30")
    assert result["resolve"][0]["stopped_at"] == at("Mon 09:30")
    assert sent(result) == []


def test_live_catch_up_sends_only_the_most_severe_pending_step() -> None:
    opened = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
    sla = TicketSla.open(POLICY, "P1", opened)
    coalesced = sla.take_due(opened + timedelta(hours=5))  # the worker was down for five hours
    assert coalesced is not None
    assert (coalesced.sent.metric, coalesced.sent.step.at_percent, coalesced.sent.at) == (
        Metric.RESOLVE, 100, opened + timedelta(hours=4))
    assert sorted((f.metric, f.step.at_percent) for f in coalesced.superseded) == [
        (Metric.RESOLVE, 75), (Metric.RESPOND, 75), (Metric.RESPOND, 100)]
    assert sla.take_due(opened + timedelta(hours=5)) is None  # nothing twice
    assert sla.next_step_at() == opened + timedelta(hours=6)  # the first repeat


def test_catch_up_over_many_repeats_sends_the_latest_and_skips_the_rest() -> None:
    opened = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
    sla = TicketSla.open(POLICY, "P1", opened)
    sla.reply(opened + timedelta(minutes=5))
    coalesced = sla.take_due(opened + timedelta(hours=11))
    assert coalesced is not None and coalesced.sent.repeat == 3  # repeats at 6h, 8h, 10h: send 10h
    assert sla.next_step_at() == opened + timedelta(hours=12)


@pytest.mark.parametrize(("events", "message"), [
    ([{"at": "2026-01-05T09:00:00Z", "type": "replied"}], "earliest event must be 'opened'"),
    ([{"at": "2026-01-05T09:00:00", "type": "opened", "priority": "P2"}], "has no UTC offset"),
    ([{"at": "2026-01-05T09:00:00Z", "type": "opened"}], "events[0].priority: required"),
    ([{"at": "2026-01-05T09:00:00Z", "type": "bounced"}], "events[0].type: 'bounced' is not one of"),
    ([{"at": "2026-01-05T09:00:00Z", "type": "opened", "priority": "P2"},
      {"at": "2026-01-05T10:00:00Z", "type": "status", "status": "done"}], "events[1].status"),
])
def test_bad_histories_are_refused_with_the_place_named(events: list[dict], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        run(events)


def test_an_unknown_priority_is_named() -> None:
    with pytest.raises(InvalidInput, match="unknown priority 'P9'"):
        run([{"at": at("Mon 09:00"), "type": "opened", "priority": "P9"}])
