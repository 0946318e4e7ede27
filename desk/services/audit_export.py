"""`desk audit export`: one council's whole event chain, for an auditor to re-verify without desk.

The first line is a header: the council, the chain's head (last seq and hash, so a truncated file is
noticed) and the hash recipe in words. Every other line is one event with everything its hash covers,
in chain order. docs/council-data.md has the recipe and a short stand-alone verifier.

Internal notes stay in the chain (a gap would break it) but their words are withheld: a sealed event
(recipe 2) carries `{"withheld": digest}` instead of the text and no salt, which still verifies; an
event from before sealing (recipe 1) cannot be withheld that way, so its data is left out and the line
says `"withheld": true` — the verifier can check its links, not its content.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlmodel import Session

from desk.db import queries
from desk.db.tables import TicketEventRow
from desk.domain.audit import GENESIS, SEALED_KEYS, replace_text
from desk.services.council_data import INTERNAL_EVENT_TYPES

EXPORT_FORMAT = 1
RECIPE = (
    "Events are in chain order from seq 1. For each: seq is one more than the previous; prev_hash equals the "
    "previous event's hash (the first one's is 64 zeros); hash = SHA-256 (hex) of the UTF-8 canonical JSON "
    "(keys sorted, no spaces, non-ASCII kept) of {council, seq, ticket, type, actor, at, data, prev} where "
    "prev is prev_hash and at is the line's 'at' verbatim. For version 2 add \"v\": 2 and, in data, replace "
    f"each top-level value under {', '.join(SEALED_KEYS)} that is a string s with {{\"sha256\": "
    "sha256_hex(salt + s)}, and each {\"redacted\"|\"withheld\": d} with {\"sha256\": d}. The last event's "
    "seq and hash must equal head. Lines marked withheld: true can be checked for links only. "
    "See docs/council-data.md, 'Verifying the chain offline'."
)


def canonical_at(at: datetime) -> str:
    """The instant exactly as the hash recipe writes it."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def header(session: Session, council_id: str, now: datetime) -> dict:
    council = queries.get_council(session, council_id)
    return {"record": "audit_header", "format": EXPORT_FORMAT, "council": council.id, "name": council.name,
            "exported_at": now.isoformat(), "genesis": GENESIS,
            "head": {"seq": council.last_seq, "hash": council.last_hash}, "how_to_verify": RECIPE}


def event_line(event: TicketEventRow) -> dict:
    line = {"record": "audit_event", "seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash,
            "version": event.hash_version, "council": event.council_id, "ticket": event.ticket_ref,
            "type": event.type, "actor": event.actor, "at": canonical_at(event.at), "data": event.data,
            "salt": event.text_salt}
    if event.type in INTERNAL_EVENT_TYPES:
        if event.hash_version >= 2:
            line["data"], _ = replace_text(event.data, event.text_salt, "withheld")
            line["salt"] = None
        else:
            line["data"], line["withheld"] = None, True
    return line


def export_chain(session: Session, council_id: str, now: datetime) -> Iterator[dict]:
    """The header, then every event of the council's chain, oldest first."""
    yield header(session, council_id, now)
    for event in queries.list_council_events(session, council_id):
        yield event_line(event)
