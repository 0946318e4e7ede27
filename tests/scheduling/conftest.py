"""The worker as `desk worker --once` runs it, against a real database and the Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from desk.config import Settings
from desk.sandbox.slack_api import SlackStandIn
from desk.wiring import Wiring
from tests.slack.conftest import MONDAY, SECRET, USERS, HandClock


@dataclass
class Rig:
    wiring: Wiring
    slack: SlackStandIn
    clock: HandClock
    engine: Engine

    def worker(self, *, digests: bool = False):
        """A fresh worker: building a new one is what a restart looks like."""
        if digests:
            return self.wiring.worker(channel_pace=0)
        return self.wiring.worker(channel_pace=0, enqueue_digests=None)

    def posts(self) -> list:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.ok]


@pytest.fixture
def rig(synced: Engine, database_url: str) -> Iterator[Rig]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        settings = Settings.from_environ({"SLACK_BOT_TOKEN": "xoxb-worker", "SLACK_SIGNING_SECRET": SECRET,
                                          "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": slack.api_url})
        clock = HandClock(MONDAY)
        wiring = Wiring(settings, clock=clock)
        wiring.__dict__["engine"] = synced
        yield Rig(wiring, slack, clock, synced)
        assert slack.violations == []
