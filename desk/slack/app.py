"""The Bolt app, built from settings: one `App`, its Web API client, its listeners, one error policy.

`process_before_response=True` with lazy listeners: each request's ack function runs inline and answers
Slack at once (no 10 ms ack polling), and the work runs afterwards on the listener executor.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from desk.config import Settings
from desk.errors import ConfigError
from desk.slack.deps import Deps
from desk.slack.listeners import actions, commands, events, views

log = logging.getLogger("desk.slack")

# Bounded retries: a 429 waits for Retry-After (up to 2 times), a dropped connection is retried twice.
RETRY_HANDLERS = [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=2)]


def web_client(settings: Settings) -> WebClient:
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the Slack app needs its bot token (xoxb-…)")
    return WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                     retry_handlers=list(RETRY_HANDLERS), timeout=10)


def build_app(settings: Settings, deps: Deps, executor: ThreadPoolExecutor | None = None) -> App:
    if settings.slack_signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: desk cannot verify requests from Slack")
    try:
        app = App(
            client=web_client(settings),
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=True,
            # auth.test once, at start-up: otherwise the first request pays for it before its ack
            token_verification_enabled=True,
            listener_executor=executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="desk-listener"),
            logger=log,
        )
    except BoltError as err:
        raise ConfigError(f"SLACK_BOT_TOKEN could not be verified with Slack ({settings.slack_api_url}): "
                          f"{err}") from None
    for module in (events, commands, actions, views):
        module.register(app, deps)
    return app
