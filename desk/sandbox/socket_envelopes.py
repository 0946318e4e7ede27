"""Socket Mode's messages as Slack sends them: envelope types, disconnect reasons, an envelope, an ack.

Kept apart from the server (`desk.sandbox.socket_mode`) so the driver's twin and tests can name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

ACK_DEADLINE_SECONDS = 3.0  # Slack's: an envelope not acked within this is delivered again (or shown failed)
APP_ID = "A0DESKAPP1"


class EnvelopeType(StrEnum):
    """What Slack sends over Socket Mode that the app must ack."""

    EVENTS_API = "events_api"
    SLASH_COMMANDS = "slash_commands"
    INTERACTIVE = "interactive"


class DisconnectReason(StrEnum):
    """A `disconnect` message's reason: Slack refreshing the link, the app's Socket Mode switched off, or
    a warning some seconds before a refresh (the link stays open)."""

    REFRESH_REQUESTED = "refresh_requested"
    LINK_DISABLED = "link_disabled"
    WARNING = "warning"


EVENTS_API, SLASH_COMMANDS, INTERACTIVE = EnvelopeType
REFRESH_REQUESTED, LINK_DISABLED, WARNING = DisconnectReason


@dataclass(frozen=True)
class Envelope:
    """One envelope as sent: its id, type, payload, and on which connection and when."""

    envelope_id: str
    type: EnvelopeType
    payload: dict[str, Any]
    connection: int
    sent_at: float  # time.monotonic()
    retry_attempt: int = 0
    retry_reason: str = ""

    def message(self) -> dict[str, Any]:
        accepts = self.type != EVENTS_API  # a slash command or interaction may be answered in its ack
        return {"envelope_id": self.envelope_id, "type": str(self.type), "payload": self.payload,
                "accepts_response_payload": accepts, "retry_attempt": self.retry_attempt,
                "retry_reason": self.retry_reason}


@dataclass(frozen=True)
class Ack:
    """What the app sent back for an envelope: its payload (`{}` for a bare ack) and after how long."""

    envelope_id: str
    payload: dict[str, Any]
    connection: int
    after: float  # seconds since the envelope was sent

    @property
    def late(self) -> bool:
        return self.after > ACK_DEADLINE_SECONDS
