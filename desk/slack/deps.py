"""What listeners need, passed in at registration (no globals, nothing read at import time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from desk.clock import Clock
from desk.services.report_links import LinkMaker
from desk.services.roles import GroupMembers
from desk.slack.identity import Identities

if TYPE_CHECKING:
    from desk.slack.receipt import Receipts


@dataclass(frozen=True)
class Deps:
    engine: Engine
    clock: Clock
    identities: Identities = field(default_factory=Identities)  # who acts from which organisation, cached
    names: dict[str, tuple[str, float]] = field(default_factory=dict)  # user -> (display name, looked up at)
    report_links: LinkMaker | None = None  # signs `/desk report` links; None: no secret to sign with
    groups: GroupMembers = field(default_factory=GroupMembers)  # user-group members, kept a few minutes
    receipts: Receipts | None = None  # the durable receipt (inbox); None: work is not stored before its ack
