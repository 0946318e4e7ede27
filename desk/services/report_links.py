"""Signed, expiring links to the HTML SLA report: the token alone says what the holder may see.

A link is shared by people (pasted into an email to a council's governance meeting), so it carries its
own authority instead of a login: one council's figures, or every council's for a managers' link, for one
period, until an instant. Nothing is stored, so nothing has to be looked up or cleaned up; revoking every
link at once means changing the link secret (`DESK_LINK_SECRET`, or the Slack signing secret it is derived
from when unset).

    token = base64url(canonical JSON payload) "." base64url(HMAC-SHA256(secret, first part))

The MAC covers the exact bytes of the first part, so there is one canonical form to check, not a JSON
document to re-serialise. The signature is compared in constant time and checked before the payload is
parsed at all: a forged token never reaches the JSON decoder.

    InvalidLink (PermissionDenied)   anything wrong: malformed, tampered, expired, wrong secret
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from desk.errors import PermissionDenied

VERSION = 1
LINK_LIFETIME = timedelta(days=7)
MAX_TOKEN_LENGTH = 1024  # a real token is ~150 characters; a longer one is refused unread
DERIVATION_LABEL = b"desk/report-links/v1"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class InvalidLink(PermissionDenied):
    """The link does not grant anything: the page says only that it is invalid or has expired."""


@dataclass(frozen=True)
class LinkScope:
    """What a verified link grants: `council_id` None means every council (a managers' link)."""

    council_id: str | None
    start: date
    end: date
    expires_at: datetime


@dataclass(frozen=True)
class LinkMaker:
    """Makes full report URLs: the web process's public address plus a signed token."""

    public_url: str
    secret: bytes = field(repr=False)
    path: str = "/reports/sla"

    def url(self, council_id: str | None, start: date, end: date, *, now: datetime,
            lifetime: timedelta = LINK_LIFETIME) -> tuple[str, datetime]:
        """The link and the instant it stops working."""
        expires_at = now + lifetime
        token = sign(council_id, start, end, expires_at, self.secret)
        return f"{self.public_url.rstrip('/')}{self.path}?t={quote(token, safe='')}", expires_at


def derive_secret(base_secret: str) -> bytes:
    """The link key, derived from another secret under a fixed label.

    Domain separation: the key that signs report links is never the key Slack signs requests with, so a
    report link can never be replayed as (or help forge) a Slack request, and vice versa.
    """
    return hmac.new(base_secret.encode(), DERIVATION_LABEL, hashlib.sha256).digest()


def sign(council_id: str | None, start: date, end: date, expires_at: datetime, secret: bytes) -> str:
    """A token granting `council_id`'s report (None: all councils) for start..end until `expires_at`."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    if end < start:
        raise ValueError("a report period ends on or after its start")
    payload = {"v": VERSION, "c": council_id, "s": start.isoformat(), "e": end.isoformat(),
               "x": int(expires_at.timestamp())}
    body = _encode(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    return f"{body}.{_encode(_mac(body, secret))}"


def verify(token: str, secret: bytes, now: datetime) -> LinkScope:
    """The scope a token grants at `now`, or `InvalidLink`: tampered, malformed, foreign or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not TOKEN_SHAPE.fullmatch(token):
        raise InvalidLink("malformed link")
    body, signature = token.split(".")
    try:
        given = _decode(signature)
    except ValueError:
        raise InvalidLink("malformed signature") from None
    if not hmac.compare_digest(given, _mac(body, secret)):
        raise InvalidLink("bad signature")
    try:
        payload = json.loads(_decode(body))
        scope = LinkScope(council_id=_council(payload["c"]), start=date.fromisoformat(payload["s"]),
                          end=date.fromisoformat(payload["e"]),
                          expires_at=datetime.fromtimestamp(int(payload["x"]), UTC))
        version = payload["v"]
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InvalidLink("malformed payload") from None  # signed by us but unreadable: a bug, still refused
    if version != VERSION:
        raise InvalidLink(f"unknown link version {version!r}")
    if now >= scope.expires_at:
        raise InvalidLink(f"expired at {scope.expires_at.isoformat()}")
    return scope


def _council(value: object) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise ValueError("council must be a non-empty string or null")


def _mac(body: str, secret: bytes) -> bytes:
    if not secret:
        raise ValueError("the link secret is empty")
    return hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Base64url without padding, in its one canonical spelling: a token whose unused trailing bits were
    changed decodes to the same bytes, and is refused anyway, so each grant has exactly one token."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if _encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
