"""Who is acting: a council's member, the support team, or nobody we serve (DESIGN.md, Slack behaviour).

The tenant is the actor's organisation, mapped through `councils[].slack.teams`, and cross-checked with
the channel: a member of one council acting in another council's channel is refused. Never the top-level
`team_id` of a payload, which in a shared channel may be either side. The organisation is an
`OrgIdentity` (workspace `T…` and, on Enterprise Grid, organisation `E…`); `desk.domain.identity` decides
which council or support team its ids point at, and refuses ids that point at two.

Being in the support team's organisation makes nobody support: that is a role (`roles.py`), decided as a
separate step (`with_roles`) and carried on the actor, so listeners ask `roles.may(actor, Power.X)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from desk.domain.identity import OrgIdentity, Standing, place
from desk.domain.roles import NO_ROLES, Roles


class ActorKind(StrEnum):
    COUNCIL = "council"
    SUPPORT = "support"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Directory:
    council_by_team: Mapping[str, str]  # workspace (T…) and organisation (E…) ids alike
    council_by_channel: Mapping[str, str]
    support_team: str | None  # a workspace (T…) or an organisation (E…)
    triage_channel: str | None
    council_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    user: str
    team: str | None
    kind: ActorKind
    council_id: str | None = None  # a council member's council; for support, the council whose channel it is
    refused_because: str | None = None
    roles: Roles = NO_ROLES  # support roles: only ever set for someone acting from the support organisation

    @property
    def is_council(self) -> bool:
        return self.kind is ActorKind.COUNCIL

    @property
    def from_support_team(self) -> bool:
        """Acting from the support team's organisation: says nothing about being on the team."""
        return self.kind is ActorKind.SUPPORT

    @property
    def is_support(self) -> bool:
        """Holds a support role (confirmed). Prefer `roles.may(actor, Power.X)`, which asks about one power."""
        return self.kind is ActorKind.SUPPORT and bool(self.roles.held)


def resolve(directory: Directory, *, user: str, team: OrgIdentity | str | None,
            channel: str | None = None) -> Actor:
    """`team`: the actor's `OrgIdentity` (or, where only one id is known, that `T…`/`E…` id)."""
    identity = OrgIdentity.of(team)
    label = identity.label
    channel_council = directory.council_by_channel.get(channel) if channel else None
    placement = place(identity, council_by_team=directory.council_by_team, support_team=directory.support_team)
    if placement.standing is Standing.CLASH:
        return Actor(user, label, ActorKind.UNKNOWN, refused_because=placement.clash)
    council = placement.council_id
    if council is not None:
        if channel_council is not None and channel_council != council:
            return Actor(user, label, ActorKind.UNKNOWN,
                         refused_because=f"a member of {council} acting in {channel_council}'s channel")
        return Actor(user, label, ActorKind.COUNCIL, council)
    if placement.standing is Standing.SUPPORT:
        return Actor(user, label, ActorKind.SUPPORT, channel_council)
    return Actor(user, label, ActorKind.UNKNOWN, refused_because=f"organisation {label} is not a partner")


def with_roles(actor: Actor, roles: Roles) -> Actor:
    """The actor with their support roles; roles count only for someone acting from the support organisation
    (a registry id met in a council's workspace is that council's member, nothing more)."""
    return replace(actor, roles=roles if actor.kind is ActorKind.SUPPORT else NO_ROLES)
