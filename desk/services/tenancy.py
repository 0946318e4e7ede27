"""The directory of councils and the support team, read from the synced registry."""

from __future__ import annotations

import logging

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import CouncilRow
from desk.domain.identity import OrgIdentity, Standing, place
from desk.domain.tenancy import Actor, Directory, resolve

log = logging.getLogger("desk.tenancy")


# The registry as one unit of work read it (session.info): intake asks who is acting, whether the channel is
# the council's and (routing) for the rota, and each read the same rows. `playbooks.sync`, the one writer,
# calls `forget` so the session that changed the registry reads it afresh.
_SUPPORT, _DIRECTORY = "desk.support_definition", "desk.directory"


def support_definition(session: Session) -> dict:
    """The registry's `support:` block (team, triage channel, engineers, duty lead, service managers)."""
    if _SUPPORT not in session.info:
        session.info[_SUPPORT] = dict(queries.find_support_definition(session) or {})
    return dict(session.info[_SUPPORT])


def directory(session: Session) -> Directory:
    if _DIRECTORY not in session.info:
        councils = list(queries.list_councils(session))
        # the rows are kept with it: while they are, `queries.get_council` finds them without a query
        session.info[_DIRECTORY] = (_directory_of(session, councils), councils)
    return session.info[_DIRECTORY][0]


def forget(session: Session) -> None:
    """The registry changed in this unit of work: read it again next time."""
    session.info.pop(_SUPPORT, None)
    session.info.pop(_DIRECTORY, None)


def _directory_of(session: Session, councils: list[CouncilRow]) -> Directory:
    by_team: dict[str, str] = {}
    by_channel: dict[str, str] = {}
    names: dict[str, str] = {}
    for council in councils:
        if not council.active:
            continue
        names[council.id] = council.name
        for team in council.slack.get("teams", []):
            by_team[team] = council.id
        for channel in council.slack.get("channels", []):
            by_channel[channel] = council.id
    definition = support_definition(session)
    return Directory(by_team, by_channel, definition.get("team"), definition.get("triage_channel"), names)


def actor(session: Session, *, user: str, team: OrgIdentity | str | None, channel: str | None = None) -> Actor:
    """Who is acting. A person whose workspace and organisation point at two places is refused, and the
    registry overlap that caused it is logged (it needs fixing in councils.yaml, not retrying)."""
    known = directory(session)
    identity = OrgIdentity.of(team)
    placement = place(identity, council_by_team=known.council_by_team, support_team=known.support_team)
    if placement.standing is Standing.CLASH:
        log.warning("refused %s: %s (list one of them in councils.yaml)", user, placement.clash)
    found = resolve(known, user=user, team=identity, channel=channel)
    if placement.standing is Standing.NOWHERE and identity.ids:  # the ids to list, if this is a new council
        log.info("nobody desk serves: %s (organisation %s): %s", user, identity.label, found.refused_because)
    return found


def is_council_channel(session: Session, channel: str, council_id: str | None) -> bool:
    return council_id is not None and directory(session).council_by_channel.get(channel) == council_id
