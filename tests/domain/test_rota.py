"""The duty rota: `support.rota` parsed and refused with the bad entry named, and who is on duty when.

The support calendar is the test playbook's: Europe/London, Monday to Thursday 09:00-17:00 (lunch
12:30-13:30), Friday to 16:30, England and Wales bank holidays, closed 24 and 29 December 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from desk.domain.calendar import business_calendar
from desk.domain.playbook_schema import parse_documents
from desk.domain.rota import Duty, Rota, duty_at, next_in_turn
from desk.domain.rota_schema import rota_from_json, rota_to_json
from tests.domain.playbook_texts import COUNCILS, PLAYBOOK, edited, registry_problems

ANN, BEN, CAT, DAN = "U0ANN00001", "U0BEN00001", "U0CAT00001", "U0DAN00001"
SUPPORT = "  engineers: [S0ENG00001]\n"
KNOWN = f"  engineers: [S0ENG00001, {ANN}, {BEN}, {CAT}, {DAN}]\n"
ROTA = f"""\
  rota:
    calendar: standard
    weeks:
      - {{week: 2026-03-30, duty_lead: {ANN}, engineers: [{ANN}, {BEN}]}}
      - {{week: 2026-04-06, duty_lead: {BEN}, engineers: [{BEN}, {CAT}]}}
      - {{week: 2026-12-21, through: 2026-12-28, duty_lead: {DAN}, engineers: [{DAN}, {ANN}]}}
    pattern:
      start: 2026-01-05
      cycle:
        - {{duty_lead: {CAT}, engineers: [{CAT}, {DAN}, {ANN}]}}
        - {{duty_lead: {DAN}, engineers: [{DAN}, {ANN}, {BEN}]}}
    leave:
      - {{person: {DAN}, from: 2026-01-14, to: 2026-01-16}}
      - {{person: {ANN}, from: 2026-01-13, to: 2026-01-13}}
    routing:
      - {{id: payments, categories: [payments]}}
      - {{id: fife-round-robin, councils: [fife], assign: round-robin}}
"""


def councils(rota: str = ROTA) -> str:
    return edited(COUNCILS, SUPPORT, KNOWN) + rota


def parsed(rota: str = ROTA) -> Rota:
    found = parse_documents({"standard.yaml": PLAYBOOK, "councils.yaml": councils(rota)}).registry.rota
    assert found is not None
    return found


CALENDAR = business_calendar(
    parse_documents({"standard.yaml": PLAYBOOK, "councils.yaml": COUNCILS}).playbooks["standard"].calendar)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def duty(when: str, rota: Rota | None = None) -> Duty:
    return duty_at(rota or parsed(), CALENDAR, at(when))


# --- who is on duty ------------------------------------------------------------------------------------


def test_the_duty_lead_is_handed_over_on_monday_at_the_start_of_the_working_day() -> None:
    before = duty("2026-03-30T08:59:59+01:00")  # Monday, before opening: last week's (pattern) people
    after = duty("2026-03-30T09:00:00+01:00")
    assert (before.week, before.source, before.duty_lead) == (date(2026, 3, 23), "pattern.cycle[1]", DAN)
    assert before.next_handover_at == at("2026-03-30T09:00:00+01:00")
    assert (after.week, after.source, after.duty_lead, after.engineers) == (
        date(2026, 3, 30), "weeks[0]", ANN, (ANN, BEN))
    assert after.began_at == at("2026-03-30T09:00:00+01:00")
    assert duty("2026-04-05T23:00:00+01:00").duty_lead == ANN  # Sunday night: still this week's


def test_a_bank_holiday_monday_moves_the_handover_to_tuesday_morning() -> None:
    easter_monday = duty("2026-04-06T12:00:00+01:00")  # Easter Monday: no working day, ANN carries on
    assert (easter_monday.duty_lead, easter_monday.week) == (ANN, date(2026, 3, 30))
    assert easter_monday.next_handover_at == at("2026-04-07T09:00:00+01:00")
    tuesday = duty("2026-04-07T09:00:00+01:00")
    assert (tuesday.duty_lead, tuesday.source, tuesday.began_at) == (BEN, "weeks[1]", at("2026-04-07T09:00:00+01:00"))


def test_a_closure_counts_like_a_bank_holiday_and_explicit_weeks_span_through() -> None:
    # The week of 21 December (weeks[2], through the 28th) is handed over on Monday 21st as usual;
    # the 24th is a closure, the 25th and 28th bank holidays: the week of the 28th begins on Wednesday 30th
    # (the 29th is a closure too), still DAN's through `through`.
    assert duty("2026-12-21T09:00:00+00:00").duty_lead == DAN
    tuesday = duty("2026-12-29T10:00:00+00:00")
    assert (tuesday.week, tuesday.duty_lead) == (date(2026, 12, 21), DAN)
    assert tuesday.next_handover_at == at("2026-12-30T09:00:00+00:00")
    wednesday = duty("2026-12-30T09:00:00+00:00")
    assert (wednesday.week, wednesday.source, wednesday.duty_lead) == (date(2026, 12, 28), "weeks[2]", DAN)
    assert duty("2027-01-04T09:00:00+00:00").source == "pattern.cycle[0]"  # after the weeks, the pattern again


def test_the_pattern_repeats_from_its_start_and_names_nobody_before_it() -> None:
    assert duty("2026-01-05T09:00:00+00:00").source == "pattern.cycle[0]"
    assert duty("2026-01-12T09:00:00+00:00").source == "pattern.cycle[1]"
    assert duty("2026-01-19T09:00:00+00:00").duty_lead == CAT
    nobody = duty("2026-01-05T08:00:00+00:00")  # before the pattern's first handover
    assert (nobody.source, nobody.duty_lead, nobody.engineers) == (None, None, ())


def test_leave_takes_people_off_duty_for_whole_days_and_a_deputy_leads() -> None:
    away = duty("2026-01-14T10:00:00+00:00")  # DAN (the lead) on leave 14-16 January
    assert (away.rostered_lead, away.duty_lead, away.engineers, away.on_leave) == (DAN, ANN, (ANN, BEN), (DAN,))
    both = duty("2026-01-13T10:00:00+00:00")  # ANN away on the 13th only: DAN leads, BEN too
    assert (both.duty_lead, both.engineers) == (DAN, (DAN, BEN))
    back = duty("2026-01-12T10:00:00+00:00")
    assert (back.duty_lead, back.engineers, back.on_leave) == (DAN, (DAN, ANN, BEN), ())


def test_nobody_left_to_lead_means_the_caller_falls_back() -> None:
    rota = parsed(edited(ROTA, f"{{person: {ANN}, from: 2026-01-13, to: 2026-01-13}}",
                         f"{{person: {ANN}, from: 2026-01-14, to: 2026-01-14}}\n"
                         f"      - {{person: {BEN}, from: 2026-01-14, to: 2026-01-14}}"))
    empty = duty("2026-01-14T10:00:00+00:00", rota)
    assert (empty.duty_lead, empty.engineers, empty.on_leave) == (None, (), (DAN, ANN, BEN))
    assert next_in_turn(empty, ANN) is None


def test_round_robin_takes_turns_in_rota_order_and_skips_people_on_leave() -> None:
    week = duty("2026-01-14T10:00:00+00:00")  # DAN, ANN, BEN rostered; DAN on leave
    assert next_in_turn(week, None) == ANN
    assert next_in_turn(week, ANN) == BEN
    assert next_in_turn(week, BEN) == ANN  # DAN's turn skipped, not lost to the order
    assert next_in_turn(week, DAN) == ANN
    assert next_in_turn(week, CAT) == ANN  # not in this week's rota: the first on duty


def test_routing_rules_match_by_category_or_council_first_rule_wins() -> None:
    rota = parsed()
    assert rota.rule_for("cherwell", "payments").id == "payments"
    assert rota.rule_for("fife", "payments").id == "payments"
    assert rota.rule_for("fife", "general").id == "fife-round-robin"
    assert rota.rule_for("cherwell", "general") is None


def test_the_stored_form_round_trips() -> None:
    rota = parsed()
    assert rota_from_json(rota_to_json(rota)) == rota


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, problem", [
    (f"week: 2026-04-06, duty_lead: {BEN}", "week: 2026-04-06, duty_lead: U0NOBODY01",
     "support.rota.weeks[1].duty_lead: U0NOBODY01 is not in support.engineers, support.duty_lead or "
     "support.service_managers: list them there first (by their user id)"),
    ("week: 2026-04-06,", "week: 2026-03-30,",
     "support.rota.weeks[1]: overlaps support.rota.weeks[0] (week of 2026-03-30 is in both)"),
    ("week: 2026-12-21, through: 2026-12-28", "week: 2026-03-23, through: 2026-04-06",
     "support.rota.weeks[2]: overlaps support.rota.weeks[0] (week of 2026-03-30 is in both)"),
    ("week: 2026-04-06,", "week: 2026-04-08,",
     "support.rota.weeks[1].week: 2026-04-08 is a Wednesday: rota weeks begin on a Monday"),
    ("start: 2026-01-05\n      cycle", "cycle", "support.rota.pattern.start: missing: a pattern needs the Monday its first "
                                "week begins"),
    (f"{{person: {DAN}, from: 2026-01-14, to: 2026-01-16}}", f"{{person: {DAN}, from: 2026-01-14, to: 2026-01-12}}",
     "support.rota.leave[0].to: 2026-01-12 is before 2026-01-14 (`from`): leave runs from one date to a later one"),
    (f"{{person: {DAN},", "{person: S0ENG00001,",
     'support.rota.leave[0].person: "S0ENG00001" is not a Slack user id (U… or W…)'),
    ("councils: [fife]", "councils: [fyfe]", 'support.rota.routing[1].councils[0]: no council "fyfe" in this registry'),
    ("categories: [payments]", "categories: [payment]",
     'support.rota.routing[0].categories[0]: no playbook sorts tickets into "payment" (known: general, '),
    ("{id: payments, categories: [payments]}", "{id: payments}",
     "support.rota.routing[0]: matches every ticket: name its `councils`, its `categories`, or both"),
    ("id: fife-round-robin", "id: payments",
     'support.rota.routing[1].id: "payments" names an earlier rule too: each rule needs its own id'),
    ("assign: round-robin", "assign: least-busy",
     'support.rota.routing[1].assign: "least-busy" is not one of round-robin'),
    ("calendar: standard", "calendar: enhanced",
     'support.rota.calendar: no playbook "enhanced" whose calendar the support team could keep (known: standard)'),
    (f"[{DAN}, {ANN}, {BEN}]", f"[{DAN}, {ANN}, {DAN}]", "support.rota.pattern.cycle[1].engineers[2]: "
                                                        f"{DAN} is listed twice"),
])
def test_a_bad_rota_is_refused_naming_the_entry(old: str, new: str, problem: str) -> None:
    problems = registry_problems(councils(edited(ROTA, old, new)))
    assert any(problem in found for found in problems), problems


def test_a_rota_with_neither_weeks_nor_pattern_is_refused() -> None:
    problems = registry_problems(councils("  rota: {calendar: standard}\n"))
    assert any("support.rota: names no weeks and no pattern" in found for found in problems), problems
