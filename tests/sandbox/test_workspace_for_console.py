"""What the stand-in keeps so the console can show what Slack would, the workspace made from the registry,
and the sandbox's clock: each at its own layer, through the real WebClient where Slack is involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from desk.sandbox import SlackStandIn, people
from desk.sandbox.movable_clock import ClockError, MovableClock, next_working_morning, parse_step

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = """
councils:
  - id: cherwell
    name: Cherwell District Council
    ref_prefix: CHW
    playbook: standard
    slack: {teams: [T0CHW4K2Q9], channels: [C0CHW7SUPP]}
    digest: {channel: C0CHW7SUPP, day: mon, time: "09:00"}
  - id: belfast
    name: Belfast City Council
    ref_prefix: BCC
    playbook: enhanced
    slack: {teams: [E0BCC6H2N5], channels: [C0BCC3FINS]}
support:
  team: T0IMS1DESK
  triage_channel: C0IMS2TRGE
  engineers: [S0IMS3ENGS, U0ENGINEER9]
  duty_lead: U0IMS4DUTY
  service_managers: [U0IMS5MGR1]
"""


@pytest.fixture
def population(tmp_path: Path) -> people.Population:
    registry = tmp_path / "councils.yaml"
    registry.write_text(REGISTRY)
    return people.from_registry(registry)


@pytest.fixture
def slack(population: people.Population):
    with SlackStandIn(team_id=population.support_team) as stand_in:
        people.install(population, stand_in.workspace)
        yield stand_in


def test_roles_follow_the_registry_and_user_groups_answer_with_their_engineers(population, slack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    roles = {p.id: p.role for p in population.people}
    group = client.usergroups_users_list(usergroup="S0IMS3ENGS")["users"]
    assert len(group) == 2 and all(roles[u] == people.ENGINEER for u in group)
    assert roles["U0ENGINEER9"] == people.ENGINEER and roles["U0IMS4DUTY"] == people.DUTY_LEAD
    assert roles["U0IMS5MGR1"] == people.SERVICE_MANAGER
    support = [p for p in population.people if p.team == "T0IMS1DESK"]
    assert {p.role for p in support} == {people.ENGINEER, people.DUTY_LEAD, people.SERVICE_MANAGER}
    assert [p.role for p in population.people].count(people.STRANGER) == 1
    assert client.users_info(user="U0IMS4DUTY")["user"]["team_id"] == "T0IMS1DESK"


def test_a_grid_council_gets_a_workspace_in_its_enterprise(population, slack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    belfast = [p for p in population.people if p.council == "belfast"]
    assert 2 <= len(belfast) <= 3
    user = client.users_info(user=belfast[0].id)["user"]
    assert user["id"].startswith("W") and user["team_id"].startswith("T")
    assert user["enterprise_user"]["enterprise_id"] == "E0BCC6H2N5"
    team = client.team_info(team=user["team_id"])["team"]
    assert team["enterprise_id"] == "E0BCC6H2N5" and team["name"] == "Belfast City Council"
    with pytest.raises(SlackApiError, match="team_not_found"):
        client.team_info(team="T0NOBODY00")


def test_channels_are_shared_with_their_council_and_triage_is_the_support_teams(population, slack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    shared = client.conversations_info(channel="C0CHW7SUPP")["channel"]
    assert shared["is_ext_shared"] and set(shared["shared_team_ids"]) == {"T0IMS1DESK", "T0CHW4K2Q9"}
    triage = client.conversations_info(channel="C0IMS2TRGE")["channel"]
    assert not triage["is_ext_shared"] and population.triage.id == "C0IMS2TRGE"
    council_members = {p.id for p in population.people if p.council == "cherwell"}
    assert council_members <= set(client.conversations_members(channel="C0CHW7SUPP")["members"])
    assert not council_members & set(client.conversations_members(channel="C0IMS2TRGE")["members"])


def test_ephemeral_messages_and_shared_files_are_kept_where_slack_shows_them(slack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    sent = client.chat_postEphemeral(channel="C0CHW7SUPP", user="U0IMS4DUTY", text="only you")
    stored = slack.workspace.ephemeral[("C0CHW7SUPP", sent["message_ts"])]
    assert stored["ephemeral_to"] == "U0IMS4DUTY"
    assert ("C0CHW7SUPP", sent["message_ts"]) not in slack.messages, "never in the channel's history"
    parent = client.chat_postMessage(channel="C0CHW7SUPP", text="digest")
    client.files_upload_v2(channel="C0CHW7SUPP", content=b"\x89PNG chart", filename="digest.png", title="Chart",
                           thread_ts=parent["ts"])
    shared = [m for m in slack.messages.values() if m.get("files")]
    assert len(shared) == 1 and shared[0]["thread_ts"] == parent["ts"]
    assert slack.workspace.uploads[shared[0]["files"][0]["id"]] == b"\x89PNG chart"


def test_a_routed_response_url_lands_for_its_person_or_changes_the_original(slack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    original = client.chat_postMessage(channel="C0CHW7SUPP", text="buttons")["ts"]
    slack.workspace.hook_routes["/hooks/actions/T1/1/abc"] = {"channel": "C0CHW7SUPP", "user": "U0IMS4DUTY",
                                                              "message_ts": original}
    hook = WebhookClient(slack.hooks_url + "actions/T1/1/abc")
    assert hook.send(text="just for you", response_type="ephemeral").status_code == 200
    [said] = slack.workspace.ephemeral.values()
    assert said["ephemeral_to"] == "U0IMS4DUTY" and said["text"] == "just for you"
    assert hook.send(text="replaced", replace_original=True).status_code == 200
    assert slack.messages[("C0CHW7SUPP", original)]["text"] == "replaced"


def test_the_clock_moves_desk_time_and_remembers_when_each_message_was_written() -> None:
    clock = MovableClock()
    before = clock.now()
    moved = clock.advance(parse_step("1w"))
    assert timedelta(days=7) <= moved - before < timedelta(days=7, seconds=5)
    with pytest.raises(ClockError, match="15m, 1h, 2d or 1w"):
        parse_step("soon")
    with pytest.raises(ClockError, match="no timezone"):
        clock.set(datetime(2026, 1, 5, 9))
    written_before = before.timestamp() - 30
    assert clock.at_wall(written_before) == datetime.fromtimestamp(written_before, UTC), \
        "a message written before the jump keeps the time it was written at"
    written_after = moved.timestamp() - timedelta(days=7).total_seconds() + 2
    assert clock.at_wall(written_after) - datetime.fromtimestamp(written_after, UTC) == timedelta(days=7)


@pytest.mark.parametrize(("now", "morning"), [
    (datetime(2026, 1, 9, 17, 0, tzinfo=UTC), datetime(2026, 1, 12, 9, 0, tzinfo=UTC)),  # Friday -> Monday
    (datetime(2026, 1, 6, 7, 0, tzinfo=UTC), datetime(2026, 1, 6, 9, 0, tzinfo=UTC)),  # before nine: today
    (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 2, 8, 0, tzinfo=UTC)),  # BST: 09:00 is 08:00Z
])
def test_next_working_morning_is_nine_o_clock_uk_time_on_a_weekday(now: datetime, morning: datetime) -> None:
    assert next_working_morning(now) == morning


def test_the_projects_own_registry_makes_a_workspace() -> None:
    population = people.from_registry(ROOT / "playbooks" / "councils.yaml")
    assert {c.council for c in population.channels} >= {"cherwell", "fife", None}
    assert all(p.team for p in population.people)
