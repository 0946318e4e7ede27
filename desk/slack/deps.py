"""What listeners need, passed in at registration (no globals, nothing read at import time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from desk.clock import Clock
from desk.services.report_links import LinkMaker

if TYPE_CHECKING:
    from desk.slack.receipt import Receipts


@dataclass(frozen=True)
class Deps:
    engine: Engine
    clock: Clock
    teams: dict[str, tuple[str, float]] = field(default_factory=dict)  # user -> (organisation, looked up at)
    report_links: LinkMaker | None = None  # signs `/desk report` links; None: no secret to sign with
    receipts: Receipts | None = None  # the durable receipt (inbox); None: work is not stored before its ack
