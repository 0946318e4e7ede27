"""As what someone acts: the support team's roles and the powers they carry (DESIGN.md, Slack behaviour: Roles).

Tenancy (`tenancy.py`) says which organisation a person acts for; this says what they may do. Being in
the support team's Slack workspace grants nothing: the registry names the people (`support.engineers`,
`support.duty_lead`, `support.service_managers`), each a user id or a user group (S…) whose members only
Slack knows. A clerk or a guest in that workspace is no more support than a stranger.

When Slack cannot say who is in a group, the role stays *unknown* and every power it could grant is
refused until Slack can say (`RoleUnknown`): a guess either way would be wrong, granting a stranger the
queues, or quietly treating an engineer's reply as nobody's, so the council's respond clock never stops.

Listeners ask one question, `may(actor, Power.X)` (or `require`, which raises the polite refusal); they
never compare user ids themselves. Both sets are closed: `POWERS` must name every role (checked at
import), and `may` raises on anything that is not a `Power`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from desk.errors import PermissionDenied, RoleUnknown

if TYPE_CHECKING:
    from desk.domain.tenancy import Actor


class Role(StrEnum):
    """The support team's roles, each named by one key of the registry's `support:` block."""

    ENGINEER = "engineer"  # support.engineers
    DUTY_LEAD = "duty_lead"  # support.duty_lead
    SERVICE_MANAGER = "service_manager"  # support.service_managers

    @property
    def registry_key(self) -> str:
        return REGISTRY_KEYS[self]


REGISTRY_KEYS: Mapping[Role, str] = MappingProxyType({
    Role.ENGINEER: "engineers", Role.DUTY_LEAD: "duty_lead", Role.SERVICE_MANAGER: "service_managers",
})


class Power(StrEnum):
    """What only the support team may do; each member says what it covers, in the words a refusal uses."""

    WORK_TICKETS = "change tickets from the triage card"  # claim, assign, priority, status, resolve, reopen
    REPLY_TO_COUNCIL = "reply to a council as support"  # a council-thread reply is a public reply (respond met)
    WRITE_NOTES = "write internal notes"  # replies in the triage card's thread
    SEE_QUEUES = "see the support queues"  # App Home
    SEE_ALL_COUNCILS = "look up every council's tickets"  # /desk status|list across councils
    RAISE_FOR_COUNCIL = "open tickets for a council"  # :ticket:, /desk, the shortcut, in a council's channel
    BE_ASSIGNED = "be assigned tickets"  # the card's Assign choice, Claim
    REPORT = "run `/desk report`"  # SLA figures for every council
    WORK_PROBLEMS = "work on shared problems"  # link tickets to a problem, post its updates, resolve it


SUPPORT_WORK = frozenset(Power) - {Power.REPORT}
POWERS: Mapping[Role, frozenset[Power]] = MappingProxyType({
    Role.ENGINEER: SUPPORT_WORK,
    Role.DUTY_LEAD: SUPPORT_WORK,
    Role.SERVICE_MANAGER: frozenset(Power),  # managers work tickets too, and alone may run reports
})
if set(POWERS) != set(Role):  # a role added without its powers must fail at import, not grant nothing silently
    raise RuntimeError(f"roles without powers: {sorted(set(Role) - set(POWERS))}")


class MembershipUnknown(Exception):
    """Raised by a group lookup that could not get an answer (Slack failing, a missing scope, an unknown group)."""

    def __init__(self, group: str, reason: str) -> None:
        super().__init__(f"{group}: {reason}")
        self.group, self.reason = group, reason


@dataclass(frozen=True)
class Roster:
    """Who the registry names for each role: user ids (U…/W…) and user groups (S…)."""

    team: str | None
    named: Mapping[Role, tuple[str, ...]]

    @classmethod
    def from_definition(cls, support: Mapping[str, object]) -> Roster:
        """From the synced `support:` block; a single id (`duty_lead: U…`) and a list read alike."""
        named: dict[Role, tuple[str, ...]] = {}
        for role in Role:
            value = support.get(role.registry_key)
            items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
            named[role] = tuple(str(item) for item in items if item)
        team = support.get("team")
        return cls(str(team) if team else None, MappingProxyType(named))

    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for ids in self.named.values() for m in ids if is_group(m)))


def is_group(member: str) -> bool:
    return member.startswith("S")


@dataclass(frozen=True)
class Roles:
    """The roles a person holds, and those Slack could not confirm either way (with why)."""

    held: frozenset[Role] = frozenset()
    unknown: frozenset[Role] = frozenset()
    unknown_because: str | None = None

    def grants(self, power: Power) -> bool:
        return any(power in POWERS[role] for role in self.held)

    def might_grant(self, power: Power) -> bool:
        return any(power in POWERS[role] for role in self.unknown)


NO_ROLES = Roles()


def roles_of(roster: Roster, user: str, members_of: Callable[[str], Iterable[str]]) -> Roles:
    """The roles `user` holds: listed by id, or a member of a listed group (`members_of` asks; it raises
    `MembershipUnknown` when it cannot say). Groups are only asked about roles not already settled by id."""
    held: set[Role] = set()
    unknown: set[Role] = set()
    reasons: list[str] = []
    for role in Role:
        named = roster.named.get(role, ())
        if user in named:
            held.add(role)
            continue
        for group in (m for m in named if is_group(m)):
            try:
                if user in set(members_of(group)):
                    held.add(role)
                    unknown.discard(role)
                    break
            except MembershipUnknown as err:
                unknown.add(role)
                reasons.append(str(err))
    return Roles(frozenset(held), frozenset(unknown - held), "; ".join(dict.fromkeys(reasons)) or None)


def may(actor: Actor, power: Power) -> bool:
    """Whether `actor` may use `power`. Raises `RoleUnknown` when only an unconfirmed role could grant it."""
    if not isinstance(power, Power):
        raise TypeError(f"not a Power: {power!r}")
    if actor.roles.grants(power):
        return True
    if actor.roles.might_grant(power):
        raise RoleUnknown(
            f"Slack could not say just now whether you are on the support team ({actor.roles.unknown_because}), "
            f"so desk did not let you {power.value}. Nothing was changed; please try again in a minute.")
    return False


def require(actor: Actor, power: Power) -> None:
    """`may`, or the polite refusal a person can act on (nothing was changed, and who to ask)."""
    if not may(actor, power):
        raise PermissionDenied(refusal(actor, power))


def refusal(actor: Actor, power: Power) -> str:
    if power is Power.REPORT:
        return ("Sorry, `/desk report` is for the support service's managers: ask one of them if you need "
                "SLA figures.")
    if actor.from_support_team:
        return (f"Sorry, you are not on the support team in desk, so you cannot {power.value}. Nothing was "
                "changed. If you should be, ask a service manager to add you (docs/slack-setup.md, Roles).")
    return f"Sorry, only the support team can {power.value}. Nothing was changed."
