"""The directory of councils and the support team, read from the synced registry."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from types import MappingProxyType

from sqlmodel import Session

from desk.db import queries, stamps
from desk.domain.identity import OrgIdentity, Standing, place
from desk.domain.tenancy import Actor, Directory, resolve

log = logging.getLogger("desk.tenancy")


# The registry, read once per process while its stamp stays (desk/db/stamps.py): intake asks who is acting,
# whether the channel is the council's and (routing) for the rota on every message, and it changes by
# `desk playbooks sync`. Kept as immutable values: the support block as JSON text (each caller gets its own
# copy to read), the directory with read-only mappings; never as ORM rows, which belong to one session.
@dataclass(frozen=True)
class _Registry:
    directory: Directory
    support_json: str


_REGISTRY: stamps.Stamped[_Registry] = stamps.Stamped(stamps.REGISTRY)


def _registry(session: Session) -> _Registry:
    return _REGISTRY.get(session, _read_registry)


def support_definition(session: Session) -> dict:
    """The registry's `support:` block (team, triage channel, engineers, duty lead, service managers)."""
    return json.loads(_registry(session).support_json)


def directory(session: Session) -> Directory:
    return _registry(session).directory


def forget(session: Session) -> None:
    """The registry changed in this unit of work: read it again next time."""
    stamps.forget(session)


def _read_registry(session: Session) -> _Registry:
    definition = dict(queries.find_support_definition(session) or {})
    by_team: dict[str, str] = {}
    by_channel: dict[str, str] = {}
    names: dict[str, str] = {}
    for council in queries.list_councils(session):
        if not council.active:
            continue
        names[council.id] = council.name
        for team in council.slack.get("teams", []):
            by_team[team] = council.id
        for channel in council.slack.get("channels", []):
            by_channel[channel] = council.id
    found = Directory(MappingProxyType(by_team), MappingProxyType(by_channel), definition.get("team"),
                      definition.get("triage_channel"), MappingProxyType(names))
    return _Registry(found, json.dumps(definition))


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
