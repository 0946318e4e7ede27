"""The stand-in and the payload builders on Enterprise Grid: users.info's `enterprise_user`, team.info's
`enterprise_id`, and the two shapes a Grid member's message takes in a Slack Connect channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.sandbox import SlackStandIn, payloads
from desk.sandbox.ids import INSTALLED_TEAM_ID


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        slack.users = {"W0GRID0001": {"id": "W0GRID0001", "team_id": "T0GRIDWS01", "name": "gwen"},
                       "U0PLAIN001": {"id": "U0PLAIN001", "team_id": "T0PLAIN001", "name": "pat"}}
        slack.teams = {"T0GRIDWS01": {"enterprise_id": "E0GRIDORG1", "enterprise_name": "Grid Council"}}
        yield slack
        assert slack.violations == []


@pytest.fixture
def client(stand_in: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=stand_in.api_url)


def test_users_info_says_which_organisation_a_grid_member_is_in(client: WebClient) -> None:
    grid = client.users_info(user="W0GRID0001")["user"]
    assert grid["team_id"] == "T0GRIDWS01"
    assert grid["enterprise_user"] == {"id": "W0GRID0001", "enterprise_id": "E0GRIDORG1",
                                       "enterprise_name": "Grid Council", "is_admin": False, "is_owner": False,
                                       "teams": ["T0GRIDWS01"]}
    assert "enterprise_user" not in client.users_info(user="U0PLAIN001")["user"]


def test_team_info_answers_a_workspaces_organisation(client: WebClient) -> None:
    assert client.team_info(team="T0GRIDWS01")["team"]["enterprise_id"] == "E0GRIDORG1"
    assert "enterprise_id" not in client.team_info(team="T0PLAIN001")["team"]
    assert client.team_info()["team"]["id"] == INSTALLED_TEAM_ID
    with pytest.raises(SlackApiError) as refused:
        client.team_info(team="T0NOWHERE1")
    assert refused.value.response["error"] == "team_not_found"


def test_a_grid_members_message_in_either_shape_slack_sends() -> None:
    by_workspace = payloads.message("hi", user="W0GRID0001", user_team="T0GRIDWS01", channel="C0SHARED01",
                                    enterprise_id="E0GRIDORG1")
    event = by_workspace["event"]
    assert (event["team"], "user_team" in event, "source_team" in event) == ("T0GRIDWS01", False, False)
    assert (by_workspace["team_id"], by_workspace["enterprise_id"]) == ("T0GRIDWS01", "E0GRIDORG1")
    assert (by_workspace["context_team_id"], by_workspace["context_enterprise_id"]) == (INSTALLED_TEAM_ID, None)

    by_organisation = payloads.message("hi", user="W0GRID0001", user_team="T0GRIDWS01", channel="C0SHARED01",
                                       enterprise_id="E0GRIDORG1", grid_shape="organisation")
    event = by_organisation["event"]
    assert (event["team"], event["user_team"], event["source_team"]) == (INSTALLED_TEAM_ID, "E0GRIDORG1",
                                                                         "E0GRIDORG1")
    assert by_organisation["team_id"] == INSTALLED_TEAM_ID and "enterprise_id" not in by_organisation
    with pytest.raises(ValueError, match="grid_shape"):
        payloads.message("hi", user="W0GRID0001", user_team="T0GRIDWS01", channel="C0SHARED01",
                         enterprise_id="E0GRIDORG1", grid_shape="team")


def test_a_grid_members_interaction_carries_the_organisation_beside_the_workspace() -> None:
    click = payloads.block_action("desk.claim", user="W0GRID0001", user_team="T0GRIDWS01", channel="C0SHARED01",
                                  enterprise_id="E0GRIDORG1")
    assert click["user"]["team_id"] == "T0GRIDWS01"
    assert (click["team"]["id"], click["team"]["enterprise_id"]) == ("T0GRIDWS01", "E0GRIDORG1")
    assert click["enterprise"] == {"id": "E0GRIDORG1", "name": "E0GRIDORG1"}
    command = payloads.slash_command("", user="W0GRID0001", user_team="T0GRIDWS01", channel="C0SHARED01",
                                     enterprise_id="E0GRIDORG1")
    assert (command["team_id"], command["enterprise_id"]) == ("T0GRIDWS01", "E0GRIDORG1")
