"""Playbook and registry parsing: the model it builds, and one test per kind of problem it names.

Fixtures are YAML text inline (the DESIGN.md examples), edited per test with `edited`, so each test shows
exactly which line it breaks and the whole `file: key: problem` line it expects.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path

import pytest

from desk.domain.playbook import ClockKind, Metric, PlaybookSet, Window
from desk.domain.playbook_schema import canonical_definition, parse_documents, parse_playbook
from desk.errors import PlaybookInvalid
from desk.services.playbook_files import load_directory, read_directory

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"

PLAYBOOK = textwrap.dedent("""\
    id: standard
    name: Standard support
    calendar:
      timezone: Europe/London
      division: england-and-wales
      hours:
        mon-thu: ["09:00-12:30", "13:30-17:00"]
        fri: ["09:00-16:30"]
      closures: [2026-12-24, "2026-12-29"]
    priorities:
      P1: {name: Critical, respond: 30m, resolve: 4h, clock: 24x7}
      P2: {name: High, respond: 1h, resolve: 8h}
      P3: {name: Medium, respond: 4h, resolve: 24h}
      P4: {name: Low, respond: 8h, resolve: 80h}
    matrix:
      high:   {high: P1, medium: P2, low: P3}
      medium: {high: P2, medium: P3, low: P4}
      low:    {high: P3, medium: P4, low: P4}
    rules:
      - name: cannot-take-payments
        match: "(?i)(cannot|can't|unable to) take (card )?payments"
        set: {category: payments, impact: high, urgency: high}
    pause_on: [waiting_on_council]
    escalations:
      - {metric: respond, at: 75, notify: [triage]}
      - {metric: respond, at: 100, notify: [duty_lead]}
      - {metric: resolve, at: 75, notify: [assignee]}
      - {metric: resolve, at: 100, notify: [service_manager], repeat_every: 2h}
    """)

COUNCILS = textwrap.dedent("""\
    councils:
      - id: cherwell
        name: Cherwell District Council
        ref_prefix: CHW
        playbook: standard
        division: england-and-wales
        slack: {teams: [T0CHW00001], channels: [C0CHW00001]}
        digest: {channel: C0CHW00001, day: mon, time: "09:00"}
      - id: fife
        name: Fife Council
        ref_prefix: FIFE
        playbook: standard
        division: scotland
        slack: {teams: [T0FIF00001], channels: [C0FIF00001]}
    support:
      team: T0SUP00001
      triage_channel: C0TRI00001
      engineers: [S0ENG00001]
      duty_lead: U0DUT00001
      service_managers: [U0MGR00001]
    """)


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"fixture does not contain {old!r} exactly once"
    return text.replace(old, new)


def playbook_problems(text: str) -> list[str]:
    with pytest.raises(PlaybookInvalid) as raised:
        parse_playbook("standard.yaml", text)
    return [str(problem) for problem in raised.value.problems]


def directory_problems(documents: dict[str, str]) -> list[str]:
    with pytest.raises(PlaybookInvalid) as raised:
        parse_documents(documents)
    return [str(problem) for problem in raised.value.problems]


def registry_problems(councils: str) -> list[str]:
    return directory_problems({"standard.yaml": PLAYBOOK, "councils.yaml": councils})


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


# --- the registry --------------------------------------------------------------------------------------


def test_a_council_must_name_a_playbook_of_the_directory() -> None:
    councils = edited(COUNCILS, "playbook: standard\n    division: scotland", "playbook: gold\n    division: scotland")
    documents = {"standard.yaml": PLAYBOOK, "enhanced.yaml": edited(PLAYBOOK, "id: standard", "id: enhanced")}
    assert directory_problems({**documents, "councils.yaml": councils}) == [
        'councils.yaml: councils[1].playbook: no playbook "gold" (known: enhanced, standard)'
    ]


def test_council_fields_are_checked() -> None:
    councils = edited(COUNCILS, "id: fife", "id: Fife")
    councils = edited(councils, "ref_prefix: FIFE", "ref_prefix: fife1")
    councils = edited(councils, "division: scotland", "division: alba")
    councils = edited(councils, "{teams: [T0FIF00001], channels: [C0FIF00001]}", "{teams: [], channels: [U0FIF00001]}")
    councils = edited(councils, '{channel: C0CHW00001, day: mon, time: "09:00"}', "{channel: C0CHW00001, day: monday, time: 10:30}")
    assert registry_problems(councils) == [
        'councils.yaml: councils[0].digest.day: "monday" is not one of mon, tue, wed, thu, fri, sat, sun (did you mean "mon"?)',
        'councils.yaml: councils[0].digest.time: 630 is not a time of day: use "HH:MM", e.g. "09:00" (YAML reads an unquoted 10:30 as a number: quote it)',
        'councils.yaml: councils[1].division: "alba" is not one of england-and-wales, scotland, northern-ireland',
        'councils.yaml: councils[1].id: "Fife" is not a council id (a-z, 0-9 and -)',
        'councils.yaml: councils[1].ref_prefix: "fife1" is not 2 to 6 capitals, e.g. CHW',
        'councils.yaml: councils[1].slack.channels[0]: "U0FIF00001" is not a Slack channel id (C… or G…)',
        "councils.yaml: councils[1].slack.teams: must not be empty",
    ]


def test_ids_prefixes_teams_and_channels_belong_to_one_council() -> None:
    councils = edited(COUNCILS, "id: fife", "id: cherwell")
    councils = edited(councils, "ref_prefix: FIFE", "ref_prefix: CHW")
    councils = edited(councils, "{teams: [T0FIF00001], channels: [C0FIF00001]}", "{teams: [T0CHW00001], channels: [C0CHW00001, C0TRI00001]}")
    assert registry_problems(councils) == [
        "councils.yaml: councils[1].id: council id cherwell is already used by councils[0] (cherwell)",
        "councils.yaml: councils[1].ref_prefix: ref prefix CHW is already used by councils[0] (cherwell)",
        "councils.yaml: councils[1].slack.channels[0]: channel C0CHW00001 is already used by councils[0] (cherwell)",
        "councils.yaml: councils[1].slack.channels[1]: channel C0TRI00001 is already used by support.triage_channel",
        "councils.yaml: councils[1].slack.teams[0]: team T0CHW00001 is already used by councils[0] (cherwell)",
    ]


def test_a_digest_may_not_go_to_another_councils_channel() -> None:
    councils = edited(COUNCILS, "division: scotland\n", "division: scotland\n    digest: {channel: C0CHW00001, day: fri, time: '16:00'}\n")
    assert registry_problems(councils) == [
        "councils.yaml: councils[1].digest.channel: C0CHW00001 belongs to councils[0] (cherwell): "
        "a digest must not go to another council's channel"
    ]


def test_the_registry_needs_councils_and_a_complete_support_block() -> None:
    assert registry_problems("councils: []\nsupport: {team: T0SUP00001}\n") == [
        "councils.yaml: councils: must not be empty",
        "councils.yaml: support.duty_lead: missing",
        "councils.yaml: support.engineers: missing",
        "councils.yaml: support.service_managers: missing",
        "councils.yaml: support.triage_channel: missing",
    ]
    assert registry_problems("councels: []\n") == [
        "councils.yaml: councels: unknown key (did you mean \"councils\"?)",
        "councils.yaml: councils: missing",
        "councils.yaml: support: missing",
    ]


def test_support_ids_must_look_like_slack_ids() -> None:
    councils = edited(COUNCILS, "team: T0SUP00001", "team: C0SUP00001")
    councils = edited(councils, "engineers: [S0ENG00001]", "engineers: [S0ENG00001, alice]")
    councils = edited(councils, "duty_lead: U0DUT00001", "duty_lead: '@bob'")
    assert registry_problems(councils) == [
        'councils.yaml: support.duty_lead: "@bob" is not a Slack user or user-group id (U…, W… or S…)',
        'councils.yaml: support.engineers[1]: "alice" is not a Slack user or user-group id (U…, W… or S…)',
        'councils.yaml: support.team: "C0SUP00001" is not a Slack team or organisation id (T… or E…)',
    ]


# --- the directory -------------------------------------------------------------------------------------


def test_two_files_may_not_declare_one_playbook_id() -> None:
    problems = directory_problems({"a.yaml": PLAYBOOK, "b.yaml": PLAYBOOK, "councils.yaml": COUNCILS})
    assert problems == ['b.yaml: id: playbook "standard" is already declared by a.yaml']


def test_a_directory_needs_a_playbook_and_a_registry() -> None:
    assert directory_problems({"councils.yaml": COUNCILS}) == [
        'councils.yaml: councils[0].playbook: no playbook "standard" (known: none)',
        'councils.yaml: councils[1].playbook: no playbook "standard" (known: none)',
        "playbooks: no playbook: add one, e.g. standard.yaml",
    ]
    assert directory_problems({"standard.yaml": PLAYBOOK}) == [
        "councils.yaml: missing: the directory needs the councils registry"
    ]
    assert directory_problems({"standard.yaml": PLAYBOOK, "councils.yaml": COUNCILS, "councils.yml": COUNCILS}) == [
        "councils.yml: the registry is given twice: keep councils.yaml only"
    ]


def test_a_broken_directory_reports_every_problem_of_every_file() -> None:
    documents = {
        "standard.yaml": edited(PLAYBOOK, "respond: 1h,", "respond: 1x,"),
        "enhanced.yaml": edited(edited(PLAYBOOK, "id: standard", "id: enhanced"), "Europe/London", "Mars/Olympus"),
        "broken.yml": "id: [unclosed\n",
        "councils.yaml": edited(COUNCILS, "ref_prefix: FIFE", "ref_prefix: CHW"),
    }
    assert directory_problems(documents) == [
        "broken.yml: YAML syntax error at line 2, column 1: expected ',' or ']', but got '<stream end>'",
        "councils.yaml: councils[1].ref_prefix: ref prefix CHW is already used by councils[0] (cherwell)",
        'enhanced.yaml: calendar.timezone: "Mars/Olympus" is not a known time zone',
        'standard.yaml: priorities.P2.respond: "1x" is not a duration (use e.g. 30m, 4h, 1h30m)',
    ]


def test_a_good_directory_keeps_each_playbooks_source() -> None:
    enhanced = edited(PLAYBOOK, "id: standard", "id: enhanced")
    loaded = parse_documents({"standard.yaml": PLAYBOOK, "other.yml": enhanced, "councils.yaml": COUNCILS})
    assert loaded.sources == {"standard": PLAYBOOK, "enhanced": enhanced}
    assert [council.id for council in loaded.registry.councils] == ["cherwell", "fife"]
    assert loaded.council("fife").digest is None and loaded.council("cherwell").digest.time == 9 * 3600


def test_read_directory_reads_yaml_and_yml_sorted_and_skips_the_rest(tmp_path: Path) -> None:
    for name, text in {"b.yml": "b", "a.yaml": "a", "notes.txt": "x", ".#a.yaml": "lock"}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "old.yaml").mkdir()
    assert list(read_directory(tmp_path).items()) == [("a.yaml", "a"), ("b.yml", "b")]


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "standard.yaml").write_bytes(b"name: \xff\n")
    with pytest.raises(PlaybookInvalid) as raised:
        read_directory(tmp_path)
    assert str(raised.value) == "standard.yaml: is not UTF-8 text (invalid start byte at byte 6)"


def test_a_missing_directory_or_registry_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(PlaybookInvalid) as raised:
        load_directory(tmp_path / "nowhere")
    assert str(raised.value) == f"{tmp_path / 'nowhere'}: no such directory"
    (tmp_path / "standard.yaml").write_text(PLAYBOOK, encoding="utf-8")
    with pytest.raises(PlaybookInvalid) as raised:
        load_directory(tmp_path)
    assert str(raised.value) == "councils.yaml: missing: the directory needs the councils registry"


@pytest.fixture(scope="module")
def shipped() -> PlaybookSet:
    return load_directory(SHIPPED)


def test_the_shipped_playbooks_load_and_cover_every_division(shipped: PlaybookSet) -> None:
    loaded = shipped

    assert set(loaded.playbooks) == {"standard", "enhanced"}
    standard, enhanced = loaded.playbooks["standard"], loaded.playbooks["enhanced"]
    assert {target.clock for target in standard.priorities.values()} == {ClockKind.BUSINESS}
    assert enhanced.priorities["P1"].clock is ClockKind.ALWAYS
    for code, target in enhanced.priorities.items():
        assert target.respond_within < standard.priorities[code].respond_within
        assert target.resolve_within < standard.priorities[code].resolve_within
    assert {date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 31)} <= standard.calendar.closures
    divisions = {loaded.playbooks[c.playbook].calendar.with_division(c.division).division
                 for c in loaded.registry.councils}
    assert divisions == {"england-and-wales", "scotland", "northern-ireland"}


@pytest.mark.parametrize(
    ("request_text", "rule"),
    [
        ("We can't take card payments at the contact centre", "cannot-take-payments"),
        ("Payments are failing on the website", "cannot-take-payments"),
        ("GOV.UK Pay is down\nresidents get a 503 error", "govuk-pay-outage"),
        ("Direct debit run failed overnight", "direct-debit-run-failed"),
        ("BACS file rejected by the bank", "direct-debit-run-failed"),
        ("Resident charged twice for council tax", "duplicate-charge"),
        ("Daily reconciliation does not balance with the bank", "reconciliation-mismatch"),
        ("Refund stuck in pending", "refund-problem"),
        ("Payment not showing on the account", "payment-not-showing"),
        ("Password expired for a cashier", "locked-out"),
        ("Please set up a new user for our income team", "user-admin"),
        ("Report request: card payments by fund for March", "report-request"),
        ("Card number e-mailed to the team inbox", "card-data-exposed"),
        ("The cashing screen is very slow", "slow-system"),
        ("A question about the colour of receipts", None),
    ],
)
def test_the_shipped_rules_triage_typical_requests(
    shipped: PlaybookSet, request_text: str, rule: str | None
) -> None:
    playbook = shipped.playbooks["standard"]
    matched = next((r.name for r in playbook.rules if r.match.search(request_text)), None)
    assert matched == rule


def test_the_shipped_playbooks_share_their_triage_rules(shipped: PlaybookSet) -> None:
    standard, enhanced = shipped.playbooks["standard"].rules, shipped.playbooks["enhanced"].rules
    assert [(r.name, r.match.pattern) for r in standard] == [(r.name, r.match.pattern) for r in enhanced]


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


def test_the_support_workspace_is_no_councils_team() -> None:
    """A council listing `support.team` would turn every engineer into that council's member (issue 12)."""
    councils = edited(COUNCILS, "{teams: [T0FIF00001], channels: [C0FIF00001]}",
                      "{teams: [T0FIF00001, T0SUP00001], channels: [C0FIF00001]}")
    assert registry_problems(councils) == [
        "councils.yaml: councils[1].slack.teams[1]: T0SUP00001 is the support team's own workspace "
        "(support.team): a council listing it would make every engineer that council's member",
    ]
