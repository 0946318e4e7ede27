"""The councils registry (`councils.yaml`): one test per kind of problem it names."""

from __future__ import annotations

from tests.domain.playbook_texts import (
    COUNCILS,
    PLAYBOOK,
    directory_problems,
    edited,
    registry_problems,
)


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


def test_the_support_workspace_is_no_councils_team() -> None:
    """A council listing `support.team` would turn every engineer into that council's member (issue 12)."""
    councils = edited(COUNCILS, "{teams: [T0FIF00001], channels: [C0FIF00001]}",
                      "{teams: [T0FIF00001, T0SUP00001], channels: [C0FIF00001]}")
    assert registry_problems(councils) == [
        "councils.yaml: councils[1].slack.teams[1]: T0SUP00001 is the support team's own workspace "
        "(support.team): a council listing it would make every engineer that council's member",
    ]
