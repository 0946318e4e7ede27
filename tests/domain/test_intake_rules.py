"""Whose request a message becomes: own council's channel, own council's words (issue 12, finding 5)."""

from __future__ import annotations

import pytest

from desk.domain.intake_rules import requester_for
from desk.domain.roles import NO_ROLES, Role, Roles
from desk.domain.tenancy import Directory, resolve, with_roles
from desk.errors import PermissionDenied

DIRECTORY = Directory(council_by_team={"T0CHW": "cherwell", "T0FIFE": "fife"},
                      council_by_channel={"C0CHW": "cherwell", "C0FIFE": "fife"},
                      support_team="T0SUP", triage_channel="C0TRIAGE")
ENGINEER_ROLES = Roles(held=frozenset({Role.ENGINEER}))


def who(user: str, team: str, channel: str, roles: Roles = NO_ROLES):
    return with_roles(resolve(DIRECTORY, user=user, team=team, channel=channel), roles)


@pytest.mark.parametrize(("actor", "channel", "author", "author_team", "requester"), [
    (("U0ALICE", "T0CHW"), "C0CHW", "U0ANN", "T0CHW", "U0ANN"),  # a colleague's words: theirs
    (("U0ALICE", "T0CHW"), "C0CHW", "U0ALICE", "T0CHW", "U0ALICE"),  # her own
    (("U0ALICE", "T0CHW"), "C0CHW", "U0ENG", "T0SUP", "U0ALICE"),  # an engineer's note: she asks
    (("U0ALICE", "T0CHW"), "C0CHW", "U0GONE", None, "U0ALICE"),  # an author Slack does not know: she asks
    (("U0ENG", "T0SUP"), "C0CHW", "U0ALICE", "T0CHW", "U0ALICE"),  # support in a council channel: author
])
def test_requesters(actor, channel, author, author_team, requester) -> None:
    roles = ENGINEER_ROLES if actor[1] == "T0SUP" else NO_ROLES
    acting = who(actor[0], actor[1], channel, roles)
    assert requester_for(acting, DIRECTORY, channel=channel, author=author, author_team=author_team) == requester


@pytest.mark.parametrize(("actor", "channel", "author_team", "why"), [
    (("U0ALICE", "T0CHW"), "C0SHARED", "T0FIFE", "not your council's"),  # a channel no council owns
    (("U0ALICE", "T0CHW"), "C0SHARED", "T0CHW", "not your council's"),  # even her colleague's words there
    (("U0ALICE", "T0CHW"), "C0CHW", "T0FIFE", "another council"),  # Fife's words in Cherwell's channel
    (("U0ALICE", "T0CHW"), "C0FIFE", "T0FIFE", "partner councils"),  # Fife's channel: not even tenancy allows it
    (("U0CLERK", "T0SUP"), "C0CHW", "T0CHW", "not on the support team"),  # support org, not support team
])
def test_refusals(actor, channel, author_team, why) -> None:
    with pytest.raises(PermissionDenied, match=why):
        requester_for(who(actor[0], actor[1], channel), DIRECTORY, channel=channel, author="U0SOMEONE",
                      author_team=author_team)
