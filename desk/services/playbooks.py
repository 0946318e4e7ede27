"""Syncing a validated playbook directory into the database, all or nothing.

A playbook whose meaning changed gets a new version (comments and formatting do not count); tickets keep
the version they were opened under. Councils are upserted; a council dropped from councils.yaml is marked
inactive, never deleted (its tickets and event chain stay); its API tokens are revoked and its chain
records a `council_deactivated` event naming them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import CouncilRow, PlaybookVersionRow, SupportConfigRow
from desk.domain.playbook import WEEKDAYS, Council, PlaybookSet
from desk.domain.playbook_schema import canonical_definition
from desk.domain.rota_schema import rota_to_json
from desk.services import api_tokens, audit, saved_replies, tenancy

SYNC_ACTOR = "desk playbooks sync"  # who acts when the registry changes a council


@dataclass
class SyncReport:
    new_versions: dict[str, int] = field(default_factory=dict)  # playbook id -> version created
    unchanged: dict[str, int] = field(default_factory=dict)  # playbook id -> current version
    councils_added: list[str] = field(default_factory=list)
    councils_updated: list[str] = field(default_factory=list)
    councils_deactivated: list[str] = field(default_factory=list)
    divisions_changed: list[str] = field(default_factory=list)  # their open tickets' deadlines must move
    replies: saved_replies.RepliesSyncReport = field(default_factory=saved_replies.RepliesSyncReport)

    def as_dict(self) -> dict:
        return asdict(self)


def content_hash(source: str) -> str:
    definition = canonical_definition(source)
    return hashlib.sha256(json.dumps(definition, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sync(session: Session, playbooks: PlaybookSet, *, at: datetime) -> SyncReport:
    report = SyncReport()
    for playbook_id, source in sorted(playbooks.sources.items()):
        digest = content_hash(source)
        current = queries.find_current_playbook_version(session, playbook_id)
        if current is not None and current.content_hash == digest:
            report.unchanged[playbook_id] = current.version
            continue
        version = current.version + 1 if current else 1
        if current is not None:
            current.current = False
            session.add(current)
        session.add(PlaybookVersionRow(playbook_id=playbook_id, version=version, content_hash=digest,
                                       source=source, created_at=at))
        report.new_versions[playbook_id] = version
    _sync_councils(session, playbooks.registry.councils, at, report)
    _sync_support(session, playbooks, at)
    report.replies = saved_replies.sync(session, playbooks.replies, at=at)
    session.flush()
    tenancy.forget(session)
    return report


def _sync_councils(session: Session, councils: tuple[Council, ...], at: datetime, report: SyncReport) -> None:
    existing = {row.id: row for row in queries.list_councils(session)}
    for council in councils:
        values = _council_values(council)
        row = existing.pop(council.id, None)
        if row is None:
            session.add(CouncilRow(id=council.id, updated_at=at, **values))
            report.councils_added.append(council.id)
            continue
        if row.division != values["division"]:
            report.divisions_changed.append(council.id)
        if any(getattr(row, name) != value for name, value in values.items()) or not row.active:
            for name, value in values.items():
                setattr(row, name, value)
            row.active, row.updated_at = True, at
            session.add(row)
            report.councils_updated.append(council.id)
    for row in existing.values():
        if row.active:
            _deactivate(session, row, at)
            report.councils_deactivated.append(row.id)


def _deactivate(session: Session, council: CouncilRow, at: datetime) -> None:
    """A council left the registry: it loses its data access (its API tokens are revoked; its report links
    and any token left are refused while it is inactive), and its own chain records that, and which tokens."""
    session.refresh(council, with_for_update=True)  # the chain's head, serialised with ticket writes
    council.active, council.updated_at = False, at
    session.add(council)
    revoked = api_tokens.revoke_council(session, council_id=council.id, at=at)
    audit.append_council_event(session, council=council, type=audit.COUNCIL_DEACTIVATED, actor=SYNC_ACTOR,
                               at=at, data={"reason": "no longer in councils.yaml",
                                            "api_tokens_revoked": [f"{t.id} {t.prefix}…" for t in revoked]})


def _council_values(council: Council) -> dict:
    digest = council.digest
    return {
        "name": council.name,
        "ref_prefix": council.ref_prefix,
        "playbook_id": council.playbook,
        "division": council.division,
        "slack": {"teams": list(council.slack_teams), "channels": list(council.slack_channels)},
        "digest": None if digest is None else {
            "channel": digest.channel, "day": WEEKDAYS[digest.day],
            "time": f"{digest.time // 3600:02d}:{digest.time % 3600 // 60:02d}"},
        "retention": None if council.retention is None else {
            "redact_after_days": council.retention.redact_after_days},
    }


def _sync_support(session: Session, playbooks: PlaybookSet, at: datetime) -> None:
    definition = asdict(playbooks.registry.support)
    definition = {k: list(v) if isinstance(v, tuple) else v for k, v in definition.items()}
    if playbooks.registry.rota is not None:  # absent, not null, without one: older rows read the same
        definition["rota"] = rota_to_json(playbooks.registry.rota)
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    row = session.get(SupportConfigRow, 1)
    if row is None:
        session.add(SupportConfigRow(id=1, definition=definition, content_hash=digest, updated_at=at))
    elif row.content_hash != digest:
        row.definition, row.content_hash, row.updated_at = definition, digest, at
        session.add(row)
