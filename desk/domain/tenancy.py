"""Who is acting: a council's member, the support team, or nobody we serve (DESIGN.md, Slack behaviour).

The tenant is the actor's organisation, mapped through `councils[].slack.teams`, and cross-checked with
the channel: a member of one council acting in another council's channel is refused. Never the top-level
`team_id` of a payload, which in a shared channel may be either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ActorKind(StrEnum):
    COUNCIL = "council"
    SUPPORT = "support"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Directory:
    council_by_team: Mapping[str, str]
    council_by_channel: Mapping[str, str]
    support_team: str | None
    triage_channel: str | None
    council_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    user: str
    team: str | None
    kind: ActorKind
    council_id: str | None = None  # a council member's council; for support, the council whose channel it is
    refused_because: str | None = None

    @property
    def is_council(self) -> bool:
        return self.kind is ActorKind.COUNCIL

    @property
    def is_support(self) -> bool:
        return self.kind is ActorKind.SUPPORT


def resolve(directory: Directory, *, user: str, team: str | None, channel: str | None = None) -> Actor:
    channel_council = directory.council_by_channel.get(channel) if channel else None
    council = directory.council_by_team.get(team) if team else None
    if council is not None:
        if channel_council is not None and channel_council != council:
            return Actor(user, team, ActorKind.UNKNOWN,
                         refused_because=f"a member of {council} acting in {channel_council}'s channel")
        return Actor(user, team, ActorKind.COUNCIL, council)
    if team is not None and team == directory.support_team:
        return Actor(user, team, ActorKind.SUPPORT, channel_council)
    return Actor(user, team, ActorKind.UNKNOWN, refused_because=f"organisation {team} is not a partner")
