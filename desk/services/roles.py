"""Who holds a support role: the registry's roster, with user groups expanded by whoever can ask Slack.

The Slack adapter passes the lookup (`usergroups.users.list`, which this layer cannot import); this module
remembers each group's members for a few minutes, so an engineer's clicks do not each cost a Web API
call (tier 2: about 20 a minute). A failed lookup is never remembered and never answered from a stale
list: `roles_of` records the role as unknown and the power is refused until Slack answers again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from sqlmodel import Session

from desk.domain.roles import POWERS, MembershipUnknown, Power, Role, Roles, Roster, is_group, roles_of
from desk.services.tenancy import support_definition

GROUP_CACHE_SECONDS = 300  # a new engineer added to the group acts as one within five minutes

Lookup = Callable[[str], Iterable[str]]  # group id -> member ids; raises MembershipUnknown


def roster(session: Session) -> Roster:
    """The synced registry's `support:` block as a roster (empty when no registry is synced yet)."""
    return Roster.from_definition(support_definition(session))


class GroupMembers:
    """Members of user groups, each list kept for `ttl_seconds` after Slack gave it."""

    def __init__(self, ttl_seconds: float = GROUP_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl_seconds, self.clock = ttl_seconds, clock
        self._lists: dict[str, tuple[frozenset[str], float]] = {}
        self._lock = threading.Lock()

    def members(self, group: str, lookup: Lookup) -> frozenset[str]:
        with self._lock:
            cached = self._lists.get(group)
        if cached is not None and self.clock() - cached[1] < self.ttl_seconds:
            return cached[0]
        found = frozenset(lookup(group))  # raises MembershipUnknown: nothing is remembered
        with self._lock:
            self._lists[group] = (found, self.clock())
        return found

    def forget(self) -> None:
        with self._lock:
            self._lists.clear()


def decide(roster: Roster, user: str, groups: GroupMembers, lookup: Lookup) -> Roles:
    """`user`'s roles under `roster`, asking `lookup` (through the cache) only about groups that matter."""
    return roles_of(roster, user, lambda group: groups.members(group, lookup))


def assignable(roster: Roster, groups: GroupMembers, lookup: Lookup) -> list[str]:
    """Everyone who may be assigned tickets, in registry order, groups expanded. A group Slack cannot list is
    left out (the caller's lookup logs it): the Assign menu never offers anyone it cannot vouch for."""
    found: list[str] = []
    for role in (r for r in Role if Power.BE_ASSIGNED in POWERS[r]):
        for member in roster.named.get(role, ()):
            if not is_group(member):
                found.append(member)
                continue
            try:
                found.extend(sorted(groups.members(member, lookup)))
            except MembershipUnknown:
                continue
    return list(dict.fromkeys(found))


__all__ = ["GroupMembers", "assignable", "Lookup", "MembershipUnknown", "decide", "roster"]
