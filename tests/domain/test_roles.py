"""Roles: who the registry names, groups asked only when they matter, and unknown never read as yes or no."""

from __future__ import annotations

import pytest

from desk.domain.roles import (
    NO_ROLES,
    POWERS,
    MembershipUnknown,
    Power,
    Role,
    Roster,
    may,
    require,
    roles_of,
)
from desk.domain.tenancy import Actor, ActorKind, with_roles
from desk.errors import PermissionDenied, RoleUnknown

ROSTER = Roster.from_definition({"team": "T0SUPPORT", "triage_channel": "C0TRIAGE",
                                 "engineers": ["U0ENG1", "S0ENGS"], "duty_lead": "S0ROTA",
                                 "service_managers": ["U0MGR1"]})
GROUPS = {"S0ENGS": {"U0ENG2"}, "S0ROTA": {"U0ENG1"}}


def members(group: str) -> set[str]:
    return GROUPS[group]


def failing(group: str) -> set[str]:
    raise MembershipUnknown(group, "usergroups.users.list: internal_error")


def support(user: str, lookup=members) -> Actor:
    return with_roles(Actor(user, "T0SUPPORT", ActorKind.SUPPORT), roles_of(ROSTER, user, lookup))


def test_every_role_has_its_powers_and_only_managers_report() -> None:
    assert set(POWERS) == set(Role)
    assert [role for role in Role if Power.REPORT in POWERS[role]] == [Role.SERVICE_MANAGER]
    assert all(Power.WORK_TICKETS in POWERS[role] and Power.BE_ASSIGNED in POWERS[role] for role in Role)


def test_roles_by_id_and_through_groups() -> None:
    assert roles_of(ROSTER, "U0ENG1", members).held == {Role.ENGINEER, Role.DUTY_LEAD}
    assert roles_of(ROSTER, "U0ENG2", members).held == {Role.ENGINEER}
    assert roles_of(ROSTER, "U0MGR1", members).held == {Role.SERVICE_MANAGER}
    assert roles_of(ROSTER, "U0CLERK", members) == NO_ROLES


def test_a_group_slack_cannot_list_leaves_its_role_unknown_and_may_refuses() -> None:
    clerk = support("U0CLERK", failing)
    assert clerk.roles.held == frozenset() and clerk.roles.unknown == {Role.ENGINEER, Role.DUTY_LEAD}
    with pytest.raises(RoleUnknown, match="could not say"):
        may(clerk, Power.WORK_TICKETS)
    assert may(clerk, Power.REPORT) is False  # no unknown role could grant it: a plain no
    # listed by id: Slack's silence about groups changes nothing for what the id grants
    assert may(support("U0MGR1", failing), Power.REPORT) is True
    assert may(support("U0ENG1", failing), Power.WORK_TICKETS) is True


def test_a_support_workspace_member_not_named_is_told_so() -> None:
    clerk = support("U0CLERK")
    assert clerk.from_support_team and not clerk.is_support
    with pytest.raises(PermissionDenied, match="not on the support team"):
        require(clerk, Power.REPLY_TO_COUNCIL)


def test_roles_count_only_from_the_support_organisation() -> None:
    council = with_roles(Actor("U0ENG1", "T0CHERWELL", ActorKind.COUNCIL, "cherwell"),
                         roles_of(ROSTER, "U0ENG1", members))
    assert council.roles == NO_ROLES and may(council, Power.SEE_ALL_COUNCILS) is False


def test_may_refuses_anything_that_is_not_a_power() -> None:
    with pytest.raises(TypeError):
        may(support("U0ENG1"), "work_tickets")  # type: ignore[arg-type]
