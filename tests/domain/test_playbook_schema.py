"""Playbook parsing: the model it builds, and one test per kind of problem it names.

Fixtures are YAML text inline (the DESIGN.md examples, tests/domain/playbook_texts.py), edited per test
with `edited`, so each test shows exactly which line it breaks and the whole `file: key: problem` line it
expects. The registry's checks are in test_registry_schema.py, a directory's in test_playbook_directory.py.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date

import pytest

from desk.domain.playbook import ClockKind, Metric, Window
from desk.domain.playbook_schema import canonical_definition, parse_playbook
from desk.errors import PlaybookInvalid
from tests.domain.playbook_texts import (
    PLAYBOOK,
    edited,
    playbook_problems,
)

# --- the model ---------------------------------------------------------------------------------------


def test_the_design_example_becomes_the_model() -> None:
    playbook = parse_playbook("standard.yaml", PLAYBOOK)

    assert (playbook.id, playbook.name) == ("standard", "Standard support")
    calendar = playbook.calendar
    assert (calendar.timezone, calendar.division) == ("Europe/London", "england-and-wales")
    assert calendar.hours[0] == (Window(9 * 3600, 12 * 3600 + 1800), Window(13 * 3600 + 1800, 17 * 3600))
    assert calendar.hours[3] == calendar.hours[0]
    assert calendar.hours[4] == (Window(9 * 3600, 16 * 3600 + 1800),)
    assert calendar.hours[5] == calendar.hours[6] == ()
    assert calendar.closures == {date(2026, 12, 24), date(2026, 12, 29)}  # a YAML date and an ISO string
    assert list(playbook.priorities) == ["P1", "P2", "P3", "P4"]
    p1, p2 = playbook.priorities["P1"], playbook.priorities["P2"]
    assert (p1.respond_within, p1.resolve_within, p1.clock) == (1800, 4 * 3600, ClockKind.ALWAYS)
    assert (p2.respond_within, p2.resolve_within, p2.clock) == (3600, 8 * 3600, ClockKind.BUSINESS)
    assert playbook.matrix["low"]["high"] == "P3"
    [rule] = playbook.rules
    assert rule.match.search("We CAN'T take card payments") and rule.category == "payments"
    assert playbook.pause_on == {"waiting_on_council"}
    assert [(s.index, s.metric, s.at_percent, s.notify, s.repeat_every) for s in playbook.escalations] == [
        (0, Metric.RESPOND, 75, ("triage",), None),
        (1, Metric.RESPOND, 100, ("duty_lead",), None),
        (2, Metric.RESOLVE, 75, ("assignee",), None),
        (3, Metric.RESOLVE, 100, ("service_manager",), 7200),
    ]
    assert (playbook.defaults.category, playbook.defaults.impact, playbook.defaults.urgency) == (
        "general", "medium", "medium",
    )
    assert playbook.close_after_days == 5


def test_optional_sections_have_defaults_and_extensions_are_read() -> None:
    text = PLAYBOOK.split("rules:")[0] + "defaults: {category: other, urgency: low}\nclose_after_days: 2\n"
    text = text.replace('  closures: [2026-12-24, "2026-12-29"]\n', "")

    playbook = parse_playbook("standard.yaml", text)

    assert playbook.rules == () and playbook.escalations == ()
    assert playbook.pause_on == {"waiting_on_council"} and playbook.calendar.closures == frozenset()
    assert (playbook.defaults.category, playbook.defaults.impact, playbook.defaults.urgency) == (
        "other", "medium", "low",
    )
    assert playbook.close_after_days == 2


@pytest.mark.parametrize(
    ("duration", "seconds"), [("30m", 1800), ("4h", 14400), ("1h30m", 5400), ("90s", 90), ("1h0m5s", 3605)]
)
def test_durations_compose_hours_minutes_and_seconds(duration: str, seconds: int) -> None:
    playbook = parse_playbook("standard.yaml", edited(PLAYBOOK, "respond: 30m", f"respond: {duration}"))
    assert playbook.priorities["P1"].respond_within == seconds


def test_a_window_may_end_at_midnight_and_windows_are_sorted() -> None:
    text = edited(PLAYBOOK, 'fri: ["09:00-16:30"]', 'fri: ["18:00-24:00", "09:00-16:30"]')
    assert parse_playbook("standard.yaml", text).calendar.hours[4] == (Window(32400, 59400), Window(64800, 86400))


# --- reading YAML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id: standard\nname: Standard: support\n", "at line 2, column 15: mapping values are not allowed here"),
        ("id: [standard\n", "at line 2, column 1: expected ',' or ']', but got '<stream end>'"),
        ("id: a\n---\nid: b\n", "at line 2, column 1: expected a single document in the stream, but found "
         "another document"),
        ("id: !!python/name:os.system x\n", "at line 1, column 5: could not determine a constructor for the "
         "tag 'tag:yaml.org,2002:python/name:os.system'"),
    ],
)
def test_a_yaml_syntax_error_names_line_and_column(text: str, problem: str) -> None:
    assert playbook_problems(text) == [f"standard.yaml: YAML syntax error {problem}"]


def test_an_alias_that_contains_itself_is_refused() -> None:
    assert playbook_problems("id: &loop [*loop]\n") == ["standard.yaml: id[0]: an alias refers to itself"]


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_file_is_a_problem(text: str) -> None:
    assert playbook_problems(text) == ["standard.yaml: the file is empty"]


def test_the_top_level_must_be_a_mapping() -> None:
    assert playbook_problems("- id: standard\n") == ["standard.yaml: must be a mapping, not a list"]


def test_duplicate_keys_are_named_at_any_depth_not_silently_overwritten() -> None:
    text = edited(PLAYBOOK, "  P2: {name: High, respond: 1h, resolve: 8h}", "  P2: {name: High, respond: 1h, resolve: 8h}\n  P2: {name: Dup, respond: 2h, resolve: 8h}")
    text = edited(text, "id: standard\n", "id: standard\nid: enhanced\n")
    text = edited(text, "{name: Low, respond: 8h,", "{name: Low, respond: 8h, respond: 9h,")
    assert playbook_problems(text) == [
        "standard.yaml: id: given twice (lines 1 and 2): keep one",
        "standard.yaml: priorities.P2: given twice (lines 13 and 14): keep one",
        "standard.yaml: priorities.P4.respond: given twice on line 16: keep one",
    ]


# --- keys ----------------------------------------------------------------------------------------------


def test_unknown_keys_are_named_at_every_level_with_a_suggestion() -> None:
    text = edited(PLAYBOOK, "pause_on:", "pause_onn:")
    text = edited(text, "  division: england-and-wales", "  division: england-and-wales\n  colour: blue")
    text = edited(text, "P3: {name: Medium, respond: 4h, resolve: 24h}", "P3: {name: Medium, respond: 4h, resolv: 24h}")
    assert playbook_problems(text) == [
        "standard.yaml: calendar.colour: unknown key (expected: timezone, division, hours, closures)",
        'standard.yaml: pause_onn: unknown key (did you mean "pause_on"?)',
        'standard.yaml: priorities.P3.resolv: unknown key (did you mean "resolve"?)',
        "standard.yaml: priorities.P3.resolve: missing",
    ]


def test_missing_required_keys_are_each_named() -> None:
    text = edited(PLAYBOOK, "name: Standard support\n", "")
    text = edited(text, "  timezone: Europe/London\n", "")
    text = text.split("matrix:")[0]
    assert playbook_problems(text) == [
        "standard.yaml: calendar.timezone: missing",
        "standard.yaml: matrix: missing",
        "standard.yaml: name: missing",
    ]


def test_a_section_of_the_wrong_shape_is_named() -> None:
    text = edited(PLAYBOOK, 'closures: [2026-12-24, "2026-12-29"]', 'closures: "2026-12-24"')
    text = edited(text, "name: Standard support", "name: [Standard]")
    assert playbook_problems(text) == [
        'standard.yaml: calendar.closures: must be a list, not "2026-12-24"',
        "standard.yaml: name: must be text, not a list",
    ]


# --- calendar ------------------------------------------------------------------------------------------


def test_an_unknown_timezone_is_named_with_a_suggestion() -> None:
    assert playbook_problems(edited(PLAYBOOK, "Europe/London", "Europe/Londn")) == [
        'standard.yaml: calendar.timezone: "Europe/Londn" is not a known time zone (did you mean "Europe/London"?)'
    ]


def test_an_unknown_division_is_named() -> None:
    assert playbook_problems(edited(PLAYBOOK, "division: england-and-wales", "division: wales")) == [
        'standard.yaml: calendar.division: "wales" is not one of england-and-wales, scotland, northern-ireland'
    ]


def test_day_keys_must_be_days_or_forward_ranges_each_day_once() -> None:
    text = edited(PLAYBOOK, 'fri: ["09:00-16:30"]', 'thu: ["09:00-16:30"]\n    monday: []\n    sun-sat: []')
    assert playbook_problems(text) == [
        'standard.yaml: calendar.hours.monday: "monday" is not a day or range of days (mon..sun, e.g. mon-fri) (did you mean "mon"?)',
        "standard.yaml: calendar.hours.sun-sat: a day range runs forward through the week, e.g. sat-sun",
        "standard.yaml: calendar.hours.thu: thu is already given by mon-thu",
    ]


def test_windows_must_be_well_formed_and_run_forward() -> None:
    text = edited(PLAYBOOK, 'fri: ["09:00-16:30"]', 'fri: ["9-5", "17:00-09:00", "25:00-26:00", 9]')
    assert playbook_problems(text) == [
        'standard.yaml: calendar.hours.fri[0]: "9-5" is not a window (use "HH:MM-HH:MM", e.g. "09:00-12:30"; 00:00 to 24:00)',
        'standard.yaml: calendar.hours.fri[1]: "17:00-09:00" must end after it starts (split a window that crosses midnight)',
        'standard.yaml: calendar.hours.fri[2]: "25:00-26:00" is not a window (use "HH:MM-HH:MM", e.g. "09:00-12:30"; 00:00 to 24:00)',
        'standard.yaml: calendar.hours.fri[3]: 9 is not a window (use "HH:MM-HH:MM", e.g. "09:00-12:30")',
    ]


def test_overlapping_windows_on_one_day_are_named() -> None:
    text = edited(PLAYBOOK, '"13:30-17:00"', '"12:00-17:00"')
    assert playbook_problems(text) == [
        'standard.yaml: calendar.hours.mon-thu[1]: "12:00-17:00" overlaps "09:00-12:30"'
    ]


def test_a_calendar_without_any_working_window_is_refused() -> None:
    text = edited(PLAYBOOK, '["09:00-12:30", "13:30-17:00"]', "[]")
    text = edited(text, 'fri: ["09:00-16:30"]', "fri: []")
    assert playbook_problems(text) == [
        'standard.yaml: calendar.hours: no working window on any day: give at least one, e.g. mon-fri: ["09:00-17:00"]'
    ]


def test_closures_must_be_whole_dates() -> None:
    text = edited(PLAYBOOK, '[2026-12-24, "2026-12-29"]', '[2026-12-24, 2026-02-30, "24/12/2026", 2026-12-24 09:00:00]')
    assert playbook_problems(text) == [
        'standard.yaml: calendar.closures[1]: "2026-02-30" is not a date (use YYYY-MM-DD)',
        'standard.yaml: calendar.closures[2]: "24/12/2026" is not a date (use YYYY-MM-DD)',
        "standard.yaml: calendar.closures[3]: 2026-12-24T09:00:00 is not a date (use YYYY-MM-DD)",
    ]


# --- priorities and matrix -----------------------------------------------------------------------------


def test_a_bad_duration_is_named_with_examples() -> None:
    text = edited(PLAYBOOK, "P2: {name: High, respond: 1h,", "P2: {name: High, respond: 1x,")
    text = edited(text, "respond: 4h, resolve: 24h", "respond: 0m, resolve: 24")
    assert playbook_problems(text) == [
        'standard.yaml: priorities.P2.respond: "1x" is not a duration (use e.g. 30m, 4h, 1h30m)',
        'standard.yaml: priorities.P3.resolve: 24 is not a duration (use e.g. 30m, 4h, 1h30m)',
        'standard.yaml: priorities.P3.respond: "0m" must be longer than zero',
    ]


def test_a_priority_needs_a_known_clock_and_respond_within_resolve() -> None:
    text = edited(PLAYBOOK, "clock: 24x7", "clock: 24/7")
    text = edited(text, "respond: 8h, resolve: 80h", "respond: 90h, resolve: 80h")
    assert playbook_problems(text) == [
        'standard.yaml: priorities.P1.clock: "24/7" is not one of business, 24x7 (did you mean "24x7"?)',
        "standard.yaml: priorities.P4.respond: is longer than resolve (80h)",
    ]


def test_every_matrix_cell_must_name_a_known_priority() -> None:
    text = edited(PLAYBOOK, "low:    {high: P3, medium: P4, low: P4}", "low:    {medium: P4, low: P9, lo: P4}")
    assert playbook_problems(text) == [
        "standard.yaml: matrix.low.high: missing",
        'standard.yaml: matrix.low.lo: unknown key (did you mean "low"?)',
        'standard.yaml: matrix.low.low: no priority "P9" (known: P1, P2, P3, P4)',
    ]


def test_a_missing_matrix_row_is_one_problem() -> None:
    text = edited(PLAYBOOK, "  low:    {high: P3, medium: P4, low: P4}\n", "")
    assert playbook_problems(text) == ["standard.yaml: matrix.low: missing"]


# --- rules, pause_on, escalations, defaults ------------------------------------------------------------


def test_rules_need_unique_names_valid_regexes_and_known_settings() -> None:
    more = textwrap.indent(textwrap.dedent("""\
        - name: cannot-take-payments
          match: "(unclosed"
          set: {category: payments, impact: huge, priority: P1}
        - name: empty
          match: "x"
          set: {}
        """), "  ")
    text = edited(PLAYBOOK, "pause_on:", more + "pause_on:")
    assert playbook_problems(text) == [
        'standard.yaml: rules[1].match: is not a valid regular expression: missing ), unterminated subpattern at position 0',
        'standard.yaml: rules[1].name: "cannot-take-payments" is already the name of rules[0]',
        'standard.yaml: rules[1].set.impact: "huge" is not one of high, medium, low',
        "standard.yaml: rules[1].set.priority: unknown key (expected: category, impact, urgency)",
        "standard.yaml: rules[2].set: must set at least one of category, impact, urgency",
    ]


def test_pause_on_takes_only_open_statuses() -> None:
    assert playbook_problems(edited(PLAYBOOK, "pause_on: [waiting_on_council]", "pause_on: [waiting, resolved]")) == [
        'standard.yaml: pause_on[0]: "waiting" is not one of new, in_progress, waiting_on_council'
        ' (did you mean "waiting_on_council"?)',
        'standard.yaml: pause_on[1]: "resolved" is not one of new, in_progress, waiting_on_council',
    ]
    assert parse_playbook("standard.yaml", edited(PLAYBOOK, "[waiting_on_council]", "[]")).pause_on == frozenset()


def test_escalation_steps_are_checked_field_by_field() -> None:
    more = textwrap.indent(textwrap.dedent("""\
        - {metric: response, at: 0, notify: []}
        - {metric: resolve, at: "75%", notify: [manager]}
        - {metric: respond, at: 50, notify: [triage, triage], repeat_every: 1h}
        - {metric: respond, at: 75, notify: [duty_lead]}
        """), "  ")
    assert playbook_problems(PLAYBOOK + more) == [
        "standard.yaml: escalations[4].at: must be a whole number from 1 to 1000, not 0",
        'standard.yaml: escalations[4].metric: "response" is not one of respond, resolve (did you mean "respond"?)',
        "standard.yaml: escalations[4].notify: must not be empty",
        'standard.yaml: escalations[5].at: must be a whole number from 1 to 1000, not "75%"',
        'standard.yaml: escalations[5].notify[0]: "manager" is not one of assignee, triage, duty_lead, service_manager',
        'standard.yaml: escalations[6].notify[1]: "triage" is listed twice',
        "standard.yaml: escalations[6].repeat_every: only steps at 100 or more repeat (this one is at 50)",
        "standard.yaml: escalations[7].at: respond at 75 is already escalations[0]",
    ]


def test_defaults_and_close_after_days_are_checked() -> None:
    text = PLAYBOOK + "defaults: {impact: severe, colour: red}\nclose_after_days: 0\n"
    assert playbook_problems(text) == [
        "standard.yaml: close_after_days: must be a whole number from 1 to 365, not 0",
        'standard.yaml: defaults.colour: unknown key (expected: category, impact, urgency)',
        'standard.yaml: defaults.impact: "severe" is not one of high, medium, low',
    ]


# --- canonical definition ------------------------------------------------------------------------------


def test_canonical_definition_ignores_comments_quoting_and_layout() -> None:
    reformatted = textwrap.dedent("""\
        # a comment an operator added
        name: 'Standard support'   # same value, other quotes
        id: "standard"
        calendar: {timezone: Europe/London, division: england-and-wales,
                   hours: {mon-thu: [09:00-12:30, 13:30-17:00], fri: [09:00-16:30]},
                   closures: ["2026-12-24", 2026-12-29]}
        """) + "priorities:" + PLAYBOOK.split("priorities:", 1)[1]
    original = canonical_definition(PLAYBOOK)

    assert canonical_definition(reformatted) == original
    assert original["calendar"]["closures"] == ["2026-12-24", "2026-12-29"]
    assert canonical_definition(edited(PLAYBOOK, "resolve: 80h", "resolve: 81h")) != original


def test_canonical_definition_refuses_what_is_not_a_document() -> None:
    with pytest.raises(PlaybookInvalid, match=re.escape("<playbook>: the file is empty")):
        canonical_definition("")
    with pytest.raises(PlaybookInvalid, match="given twice"):
        canonical_definition("id: a\nid: b\n")
