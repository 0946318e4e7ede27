"""The tamper-evident event log: each council's events form a SHA-256 hash chain.

An event's hash covers its council, sequence number, ticket, type, actor, instant, data and the previous
event's hash, in a canonical JSON form that is the same on SQLite and PostgreSQL. Editing, deleting or
reordering any stored event breaks the chain at that event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


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


def event_hash(*, council_id: str, seq: int, ticket_ref: str, type: str, actor: str, at: datetime,
               data: Mapping, prev_hash: str) -> str:
    body = {
        "council": council_id,
        "seq": seq,
        "ticket": ticket_ref,
        "type": type,
        "actor": actor,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "data": data,
        "prev": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def first_break(events: Iterable[ChainedEvent]) -> tuple[int, str] | None:
    """The first event (seq, reason) where the chain does not hold, or None if it all verifies."""
    expected_seq, prev = 1, GENESIS
    for event in events:
        if event.seq != expected_seq:
            return event.seq, f"expected event {expected_seq} next (an event is missing or out of order)"
        if event.prev_hash != prev:
            return event.seq, "does not link to the event before it"
        recomputed = event_hash(council_id=event.council_id, seq=event.seq, ticket_ref=event.ticket_ref,
                                type=event.type, actor=event.actor, at=event.at, data=event.data,
                                prev_hash=event.prev_hash)
        if recomputed != event.hash:
            return event.seq, "its content does not match its hash (edited after it was written)"
        expected_seq, prev = event.seq + 1, event.hash
    return None
