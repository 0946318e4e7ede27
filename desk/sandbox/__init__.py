"""A local Slack for tests, benchmarks and demos: the Web API stand-in and a signed request driver.

    SlackStandIn   the Web API on 127.0.0.1: checks every call against Slack's method reference and
                   Block Kit limits, records it, answers from a small workspace, injects failures
    SlackDriver    sends the app requests signed as Slack signs them (events, commands, interactivity)
    payloads       pure builders of those request bodies, shaped like Slack's own (fixtures in tests/)

Nothing here imports desk beyond `desk.errors`: the sandbox plays Slack, it is not part of the app.
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
