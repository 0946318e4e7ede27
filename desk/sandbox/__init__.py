"""A local Slack for tests, benchmarks and demos: the Web API stand-in and a signed request driver.

    SlackStandIn   the Web API on 127.0.0.1: checks every call against Slack's method reference and
                   Block Kit limits, records it, answers from a small workspace, injects failures
    SlackDriver    sends the app requests signed as Slack signs them (events, commands, interactivity)
    payloads       pure builders of those request bodies, shaped like Slack's own (fixtures in tests/)

And, for `desk sandbox`, a console people use in a browser:

    people         the workspace made from the councils registry (people, teams, channels, user groups)
    movable_clock  the sandbox's "now", which desk reads and people move
    console_*      the JSON API under /sandbox/api/ (reads, actions, views, forms) and its web front
    console/       the page, its script and styles (no build step)
    demo           weeks of history made through the same signed requests

Nothing here imports desk's layers (tests/test_architecture.py checks it): the sandbox plays Slack and
speaks to desk only over HTTP. `desk/cli/sandbox_run.py` is the one place that knows both.
"""

from __future__ import annotations

from desk.sandbox import payloads
from desk.sandbox.call_log import Call
from desk.sandbox.driver import Response, SentRequest, SlackDriver, signature
from desk.sandbox.faults import Fault
from desk.sandbox.ids import APP_ID, BOT_ID, BOT_USER_ID, INSTALLED_TEAM_ID
from desk.sandbox.slack_api import SlackStandIn

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "INSTALLED_TEAM_ID",
    "Call",
    "Fault",
    "Response",
    "SentRequest",
    "SlackDriver",
    "SlackStandIn",
    "payloads",
    "signature",
]
