"""The tamper-evident event log: each council's events form a SHA-256 hash chain.

An event's hash covers its council, sequence number, ticket, type, actor, instant, data and the previous
event's hash, in a canonical JSON form that is the same on SQLite and PostgreSQL. Editing, deleting or
reordering any stored event breaks the chain at that event.

Two recipes, named by each event's `version`:

- **1** (events written before text was sealed): `data` enters the hash verbatim.
- **2**: the body also carries `"v": 2`, and people's words are *sealed*: each top-level `data` value
  under `SEALED_KEYS` that is a string enters the hash as `{"sha256": sha256(salt + text)}`, with a
  random salt kept beside the event. Retention can then replace the words with `{"redacted": digest}`
  and erase the salt: the hash still verifies, any other edit is still caught, and without the salt a
  redacted digest cannot be confirmed by guessing the words. An export for auditors can withhold words
  the same way (`{"withheld": digest}`, for internal notes).

A text marker is only legitimate where a later `redacted` event of the same ticket lists it, so words
removed behind desk's back are reported even though the hashes hold (`first_unrecorded_redaction`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
CURRENT_VERSION = 2
# "previous": the words a council's edit or deletion replaced. Keys are only ever added: an event written
# before a key joined never carried it, so its hash is unchanged.
SEALED_KEYS = ("title", "description", "text", "note", "reason", "previous")
MARKERS = ("redacted", "withheld")
REDACTED_TYPE = "redacted"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainedEvent:
    council_id: str
    seq: int
    ticket_ref: str
    type: str
    actor: str
    at: datetime
    data: Mapping
    prev_hash: str
    hash: str
    version: int = 1
    salt: str | None = None


def text_digest(salt: str | None, text: str) -> str:
    """The seal of one piece of text: what the chain commits to instead of the words."""
    return hashlib.sha256(((salt or "") + text).encode()).hexdigest()


def marker_digest(value: object) -> str | None:
    """The digest in a `{"redacted": …}` or `{"withheld": …}` marker, or None if `value` is not one."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    (kind, digest), = value.items()
    if kind in MARKERS and isinstance(digest, str) and _HEX64.fullmatch(digest):
        return digest
    return None


def sealed(data: Mapping, salt: str | None) -> dict:
    """`data` as recipe 2 hashes it: sealed words (or markers) become `{"sha256": digest}`."""
    out = dict(data)
    for key in SEALED_KEYS:
        value = data.get(key)
        digest = marker_digest(value)
        if digest is None and isinstance(value, str):
            digest = text_digest(salt, value)
        if digest is not None:
            out[key] = {"sha256": digest}
    return out


def replace_text(data: Mapping, salt: str | None, kind: str) -> tuple[dict, tuple[str, ...]]:
    """`data` with every sealed string turned into a `kind` marker, and the keys that changed."""
    out, keys = dict(data), []
    for key in SEALED_KEYS:
        value = data.get(key)
        if isinstance(value, str):
            out[key] = {kind: text_digest(salt, value)}
            keys.append(key)
    return out, tuple(keys)


def has_markers(data: Mapping) -> bool:
    return any(marker_digest(data.get(key)) is not None for key in SEALED_KEYS)


def event_hash(*, council_id: str, seq: int, ticket_ref: str, type: str, actor: str, at: datetime,
               data: Mapping, prev_hash: str, version: int = CURRENT_VERSION, salt: str | None = None) -> str:
    body = {
        "council": council_id,
        "seq": seq,
        "ticket": ticket_ref,
        "type": type,
        "actor": actor,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "data": sealed(data, salt) if version >= 2 else data,
        "prev": prev_hash,
    }
    if version >= 2:
        body["v"] = version
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded_redactions(events: Iterable[ChainedEvent]) -> set[tuple[str, int]]:
    """(ticket ref, seq) of every event a `redacted` event says retention redacted."""
    recorded: set[tuple[str, int]] = set()
    for event in events:
        if event.type == REDACTED_TYPE:
            listed = event.data.get("events", {})
            recorded.update((event.ticket_ref, int(seq)) for seq in listed if str(seq).isdigit())
    return recorded


def first_break(events: Iterable[ChainedEvent]) -> tuple[int, str] | None:
    """The first event (seq, reason) where the chain's links or hashes do not hold, or None."""
    expected_seq, prev = 1, GENESIS
    for event in events:
        if event.seq != expected_seq:
            return event.seq, f"expected event {expected_seq} next (an event is missing or out of order)"
        if event.prev_hash != prev:
            return event.seq, "does not link to the event before it"
        recomputed = event_hash(council_id=event.council_id, seq=event.seq, ticket_ref=event.ticket_ref,
                                type=event.type, actor=event.actor, at=event.at, data=event.data,
                                prev_hash=event.prev_hash, version=event.version, salt=event.salt)
        if recomputed != event.hash:
            return event.seq, "its content does not match its hash (edited after it was written)"
        expected_seq, prev = event.seq + 1, event.hash
    return None


def first_unrecorded_redaction(events: Iterable[ChainedEvent]) -> tuple[int, str] | None:
    """The first event whose words were replaced by a marker that no `redacted` event accounts for.

    Only meaningful once `first_break` has found nothing: the `redacted` events are trusted because
    the chain vouches for them."""
    events = list(events)
    recorded = recorded_redactions(events)
    for event in events:
        if has_markers(event.data) and (event.ticket_ref, event.seq) not in recorded:
            return event.seq, "its text was removed without a recorded redaction"
    return None
