"""Which organisation a person acts from, and where that places them in the registry.

On Slack a person acts from a **workspace** (`T…`) and, on Enterprise Grid, from the **organisation**
(`E…`) that workspace belongs to. The registry may list a council (or the support team) by either id or
both: a single-workspace council by its workspace, a Grid council by its organisation (which covers every
workspace in it), or by the workspaces it wants. A person matches when either of their ids is listed.

When their two ids point at two different places (a workspace listed by one council inside an
organisation listed by another, or by the support team), the person is placed nowhere: guessing could
show one council's tickets to another. `desk playbooks validate` refuses such a registry when it can see
the overlap (a council listing an organisation and its workspaces says which workspaces are whose); this
rule is the safety net for overlaps only Slack knows about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

WORKSPACE_ID = re.compile(r"T[A-Z0-9]{2,}")
ORGANISATION_ID = re.compile(r"E[A-Z0-9]{2,}")


def is_workspace(value: object) -> bool:
    return isinstance(value, str) and WORKSPACE_ID.fullmatch(value) is not None


def is_organisation(value: object) -> bool:
    return isinstance(value, str) and ORGANISATION_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class OrgIdentity:
    """A person's workspace and, on Grid, organisation; either may be unknown (None)."""

    workspace: str | None = None
    organisation: str | None = None

    def __post_init__(self) -> None:
        if self.workspace is not None and not is_workspace(self.workspace):
            raise ValueError(f"not a Slack workspace id: {self.workspace!r}")
        if self.organisation is not None and not is_organisation(self.organisation):
            raise ValueError(f"not a Slack organisation id: {self.organisation!r}")

    @classmethod
    def of(cls, value: OrgIdentity | str | None) -> OrgIdentity:
        """An identity from one id (`T…` or `E…`), an identity, or nothing; anything else is nobody."""
        if isinstance(value, OrgIdentity):
            return value
        if is_workspace(value):
            return cls(workspace=value)  # type: ignore[arg-type]
        if is_organisation(value):
            return cls(organisation=value)  # type: ignore[arg-type]
        return cls()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(part for part in (self.workspace, self.organisation) if part is not None)

    @property
    def label(self) -> str | None:
        """For logs and refusals: `T…`, `E…` or `T…/E…`; None when nothing is known."""
        return "/".join(self.ids) or None


class Standing(StrEnum):
    """Where an identity's ids place a person in the registry."""

    COUNCIL = "council"  # listed by exactly one council, and not by the support team
    SUPPORT = "support"  # listed by the support team, and by no council
    NOWHERE = "nowhere"  # listed by nobody
    CLASH = "clash"  # listed in two places: refused, never guessed


@dataclass(frozen=True)
class Placement:
    standing: Standing
    council_id: str | None = None
    clash: str | None = None  # for CLASH: which id points where


def place(identity: OrgIdentity, *, council_by_team: Mapping[str, str], support_team: str | None) -> Placement:
    """Where `identity` belongs, by each of its ids (`council_by_team` maps `T…` and `E…` ids alike)."""
    claims = [(part, f"council {council_by_team[part]}") for part in identity.ids if part in council_by_team]
    claims += [(part, "the support team") for part in identity.ids if support_team is not None and part == support_team]
    owners = {owner for _, owner in claims}
    if len(owners) > 1:
        pointed = " and ".join(f"{part} is {owner}'s" for part, owner in claims)
        return Placement(Standing.CLASH, clash=f"organisation {identity.label} points at two places: {pointed}")
    if not claims:
        return Placement(Standing.NOWHERE)
    part = claims[0][0]
    if part in council_by_team:
        return Placement(Standing.COUNCIL, council_id=council_by_team[part])
    return Placement(Standing.SUPPORT)
