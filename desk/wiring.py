"""The one module that knows every layer: builds settings, the engine and (later) the Slack app and worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from desk.clock import Clock, system_clock
from desk.config import Settings
from desk.db.engine import make_engine


@dataclass
class Wiring:
    settings: Settings
    clock: Clock = system_clock

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Wiring:
        return cls(Settings.from_environ(environ))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)
