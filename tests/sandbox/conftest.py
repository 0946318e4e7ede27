"""The Web API stand-in on a free port, and the real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from desk.sandbox import SlackStandIn


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


@pytest.fixture
def client(stand_in: SlackStandIn) -> WebClient:
    """No retry handlers unless a test adds them: each test says which failures it expects to survive."""
    return WebClient(token="xoxb-test", base_url=stand_in.api_url, retry_handlers=[])
