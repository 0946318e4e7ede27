"""The Bolt app, built from settings: one `App`, its Web API client, its listeners, one error policy.

`process_before_response=True` with lazy listeners: each request's ack function runs inline and answers
Slack at once (no 10 ms ack polling), and the work runs afterwards on the listener executor.

Every Web API call desk makes goes through a `DeskWebClient`, the one place that counts failures
(`desk_slack_api_errors_total`): `web_client()` builds one for the notifier and for Bolt, and because Bolt
builds a plain `WebClient` per request, a global middleware swaps that for a `DeskWebClient` too.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from desk.config import Settings
from desk.errors import ConfigError
from desk.observability import metrics
from desk.slack.after_ack import run_work_after_the_ack
from desk.slack.deps import Deps
from desk.slack.listeners import actions, commands, events, problems, resolution_note, saved_replies, views

log = logging.getLogger("desk.slack")

# Bounded retries: a 429 waits for Retry-After (up to 2 times), a dropped connection is retried twice.
RETRY_HANDLERS = [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=2)]


class DeskWebClient(WebClient):
    """A `WebClient` that counts every failed call (after its own bounded retries), then re-raises."""

    def api_call(self, api_method: str, **kwargs) -> SlackResponse:  # type: ignore[override]
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as err:
            code = err.response.get("error") if isinstance(err.response.data, dict) else None
            code = str(code or f"http_{err.response.status_code}")
            metrics.SLACK_API_ERRORS.labels(method=api_method, code=code).inc()
            raise
        except (OSError, http.client.HTTPException):  # refused, reset, timed out, dropped mid-answer
            metrics.SLACK_API_ERRORS.labels(method=api_method, code="connection_error").inc()
            raise

    @classmethod
    def like(cls, client: WebClient) -> DeskWebClient:
        """The same client (token, URL, retries, team), counting."""
        copy = cls(token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl,
                   proxy=client.proxy, headers=dict(client.headers), logger=client.logger,
                   retry_handlers=client.retry_handlers)
        copy.default_params = dict(client.default_params)  # the team_id of an org-wide installation
        return copy


def web_client(settings: Settings) -> DeskWebClient:
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the Slack app needs its bot token (xoxb-…)")
    return DeskWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                         retry_handlers=list(RETRY_HANDLERS), timeout=10)


def counting_client(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Global middleware: listeners (and their lazy halves) get a `DeskWebClient`, not Bolt's plain one."""
    if not isinstance(context.client, DeskWebClient):
        context["client"] = DeskWebClient.like(context.client)
    return next()


def build_app(settings: Settings, deps: Deps, executor: ThreadPoolExecutor | None = None, *,
              process_before_response: bool = True) -> App:
    """desk's Bolt app; its work after each ack is started as `desk.slack.after_ack` says.
    `process_before_response=False` is Bolt's default mode, as Bolt has it (each ack runs on the listener
    executor and the request waits for it in a 10 ms polling loop): only for comparison in
    bench/bench_ingress.py; desk always runs with True."""
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: desk cannot verify requests from Slack "
                          "(or set SLACK_APP_TOKEN for Socket Mode, which needs no signing secret)")
    secret = settings.slack_signing_secret
    try:
        app = App(
            client=web_client(settings),
            # Socket Mode's envelopes are not signed (the app-level token opened the connection): Bolt checks
            # signatures of HTTP requests only, so without a signing secret only Socket Mode can work
            signing_secret=secret.get_secret_value() if secret is not None else "",
            process_before_response=process_before_response,
            # auth.test once, at start-up: otherwise the first request pays for it before its ack
            token_verification_enabled=True,
            listener_executor=executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="desk-listener"),
            logger=log,
        )
    except BoltError as err:
        raise ConfigError(f"SLACK_BOT_TOKEN could not be verified with Slack ({settings.slack_api_url}): "
                          f"{err}") from None
    if process_before_response:
        run_work_after_the_ack(app)
    app.use(counting_client)
    if deps.receipts is not None:
        app.use(deps.receipts.middleware())  # before any listener's ack: store what has work after it
        deps.receipts.app = app
        deps.receipts.executor = app.listener_runner.listener_executor  # where `take`n requests are worked
    for module in (events, commands, actions, views, problems, saved_replies, resolution_note):
        module.register(app, deps)
    return app
