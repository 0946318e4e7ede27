"""The registry with Enterprise Grid: councils and the support team listed by workspace (T…), organisation
(E…) or both, and every overlap `desk playbooks validate` can see refused with the clash named."""

from __future__ import annotations

import pytest

from desk.domain.playbook_schema import parse_documents
from tests.domain.playbook_texts import COUNCILS, PLAYBOOK, edited, registry_problems

CHERWELL_TEAMS = "{teams: [T0CHW00001], channels: [C0CHW00001]}"
FIFE_TEAMS = "{teams: [T0FIF00001], channels: [C0FIF00001]}"


def registry(councils: str):
    return parse_documents({"standard.yaml": PLAYBOOK, "councils.yaml": councils}).registry


@pytest.mark.parametrize("cherwell, fife, support", [
    ("[E0CHWORG01]", "[T0FIF00001]", "T0SUP00001"),  # a Grid council by organisation
    ("[E0CHWORG01, T0CHW00001, T0CHW00002]", "[T0FIF00001]", "T0SUP00001"),  # and its workspaces, declared
    ("[T0CHW00001, T0CHW00002]", "[E0FIFORG01]", "E0SUPORG01"),  # workspaces of one organisation; support on Grid
])
def test_councils_and_support_may_be_listed_by_workspace_organisation_or_both(cherwell: str, fife: str,
                                                                               support: str) -> None:
    councils = edited(COUNCILS, CHERWELL_TEAMS, f"{{teams: {cherwell}, channels: [C0CHW00001]}}")
    councils = edited(councils, FIFE_TEAMS, f"{{teams: {fife}, channels: [C0FIF00001]}}")
    councils = edited(councils, "team: T0SUP00001", f"team: {support}")
    parsed = registry(councils)
    assert parsed.councils[0].slack_teams == tuple(cherwell.strip("[]").split(", "))
    assert parsed.support.team == support


@pytest.mark.parametrize("cherwell, fife, support, problem", [
    ("[E0SHARED01]", "[E0SHARED01]", "T0SUP00001",
     "councils[1].slack.teams[0]: organisation E0SHARED01 is already used by councils[0] (cherwell)"),
    ("[T0CHW00001]", "[T0FIF00001, T0CHW00001]", "T0SUP00001",
     "councils[1].slack.teams[1]: team T0CHW00001 is already used by councils[0] (cherwell)"),
    ("[E0CHWORG01, T0CHW00001, T0CHW00002]", "[T0CHW00002]", "T0SUP00001",
     "councils[1].slack.teams[0]: workspace T0CHW00002 is in organisation E0CHWORG01, which councils[0] "
     "(cherwell) lists: an organisation and its workspaces belong to one council"),
    ("[T0CHW00001, E0CHWORG01]", "[E0FIFORG01, T0CHW00001]", "T0SUP00001",
     "councils[1].slack.teams[1]: workspace T0CHW00001 is in organisation E0CHWORG01, which councils[0] "
     "(cherwell) lists: an organisation and its workspaces belong to one council"),
    ("[E0CHWORG01]", "[T0FIF00001]", "E0CHWORG01",
     "councils[0].slack.teams[0]: E0CHWORG01 is the support team's own organisation (support.team): a council "
     "listing it would make every engineer that council's member"),
    ("[T0CHW00001]", "[T0SUP00001]", "T0SUP00001",
     "councils[1].slack.teams[0]: T0SUP00001 is the support team's own workspace (support.team): a council "
     "listing it would make every engineer that council's member"),
], ids=["one organisation, two councils", "one workspace, two councils",
        "a workspace inside another council's organisation", "declared in either order",
        "the support team's organisation", "the support team's workspace"])
def test_every_overlap_is_refused_naming_the_clash(cherwell: str, fife: str, support: str, problem: str) -> None:
    councils = edited(COUNCILS, CHERWELL_TEAMS, f"{{teams: {cherwell}, channels: [C0CHW00001]}}")
    councils = edited(councils, FIFE_TEAMS, f"{{teams: {fife}, channels: [C0FIF00001]}}")
    councils = edited(councils, "team: T0SUP00001", f"team: {support}")
    assert registry_problems(councils) == [f"councils.yaml: {problem}"]


def test_an_organisation_id_must_look_like_one() -> None:
    councils = edited(COUNCILS, CHERWELL_TEAMS, "{teams: [E0CHW, e0chworg01], channels: [C0CHW00001]}")
    assert registry_problems(councils) == [
        'councils.yaml: councils[0].slack.teams[0]: "E0CHW" is not a Slack team or organisation id (T… or E…)',
        'councils.yaml: councils[0].slack.teams[1]: "e0chworg01" is not a Slack team or organisation id (T… or E…)',
    ]
