"""Per-council bearer tokens for the read-only API.

A token is `desk_` and 32 random bytes (URL-safe base64). It is shown once, when created; the database
keeps only its SHA-256, so a copy of the database does not hand out access. Looking a token up by its
hash, then comparing hashes with `hmac.compare_digest`, means nothing an attacker sends is compared
byte by byte against a secret. The token alone decides the council: no request parameter can widen it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from desk.db import queries
from desk.db.tables import ApiTokenRow
from desk.errors import InvalidInput, NotFound

TOKEN_PREFIX = "desk_"
SHOWN_CHARS = 12  # "desk_" and 7 characters of the secret: enough to tell tokens apart in a list
NAME_MAX = 200
# Recording every use would make each API read a write; to the minute is what an operator needs.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    row: ApiTokenRow
    secret: str  # shown once, never stored


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: Session, *, council_id: str, name: str | None, at: datetime) -> IssuedToken:
    council = queries.get_council(session, council_id)
    if not council.active:
        raise InvalidInput(f"council {council.id} is inactive (no longer in councils.yaml): it gets no API tokens")
    label = (name or "").strip() or f"{council.id} API token"
    if len(label) > NAME_MAX:
        raise InvalidInput(f"a token name is at most {NAME_MAX} characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(council_id=council.id, name=label, token_hash=token_hash(secret),
                      prefix=secret[:SHOWN_CHARS], created_at=at)
    session.add(row)
    session.flush()
    return IssuedToken(row, secret)


def list_tokens(session: Session, *, council_id: str | None = None) -> Sequence[ApiTokenRow]:
    query = select(ApiTokenRow)
    if council_id is not None:
        queries.get_council(session, council_id)
        query = query.where(ApiTokenRow.council_id == council_id)
    return session.exec(query.order_by(ApiTokenRow.council_id, col(ApiTokenRow.id))).all()


def revoke(session: Session, *, token_id: int, at: datetime) -> ApiTokenRow:
    """Revoke a token; revoking it again changes nothing (the first instant stays)."""
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id} (see `desk tokens list`)")
    if row.revoked_at is None:
        row.revoked_at = at
        session.add(row)
        session.flush()
    return row


def revoke_council(session: Session, *, council_id: str, at: datetime) -> list[ApiTokenRow]:
    """Revoke every live token of a council (it left the registry); the tokens revoked, oldest first."""
    rows = session.exec(select(ApiTokenRow).where(ApiTokenRow.council_id == council_id,
                                                  col(ApiTokenRow.revoked_at).is_(None))
                        .order_by(col(ApiTokenRow.id))).all()
    for row in rows:
        row.revoked_at = at
        session.add(row)
    session.flush()
    return list(rows)


def find(session: Session, secret: str) -> ApiTokenRow | None:
    """The token `secret` is, live or revoked, or None for a malformed or unknown one. Reads only."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = token_hash(secret)
    row = session.exec(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def authenticate(session: Session, secret: str) -> ApiTokenRow | None:
    """The live token `secret` is, or None for a malformed, unknown or revoked one. Reads only."""
    row = find(session, secret)
    return row if row is not None and row.revoked_at is None else None


def needs_recording(token: ApiTokenRow, at: datetime) -> bool:
    return token.last_used_at is None or at - token.last_used_at >= LAST_USED_GRANULARITY


def record_use(session: Session, *, token_id: int, at: datetime) -> None:
    """Note when a token was last used (to the minute): so an operator can see which tokens are idle."""
    row = session.get(ApiTokenRow, token_id)
    if row is not None and needs_recording(row, at):
        row.last_used_at = at
        session.add(row)
        session.flush()
