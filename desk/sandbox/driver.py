"""`SlackDriver`: sends the app real HTTP requests signed exactly as Slack signs them.

Tests, benchmarks and demos go through the app's real front door (signature check, body parsing, ack
timing) instead of calling listeners: the signature is `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`
under the signing secret, events are JSON, slash commands and interactivity are url-encoded forms
(`payload=<json>` for the latter). Redelivery re-sends the identical body with a fresh signature and the
`X-Slack-Retry-*` headers, which is what Slack does when an ack is late, and what "at most once" must survive.

    driver = SlackDriver("http://127.0.0.1:3000/slack/events", secret, hooks_url=stand_in.hooks_url)
    first = driver.send_event(driver.message("help", user="U1", user_team="T0CHW", channel="C0CHW"))
    driver.redeliver(first)
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from desk.sandbox import payloads
from desk.sandbox.ids import wall_time
from desk.sandbox.payloads import Payload

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def signature(body: bytes, *, secret: str, timestamp: int) -> str:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SentRequest:
    """The raw body and type of a request, kept so it can be redelivered byte for byte."""

    body: bytes
    content_type: str


@dataclass(frozen=True)
class Response:
    """The app's answer. Header names are lower-cased."""

    status: int
    body: bytes
    headers: dict[str, str]
    elapsed: float
    request: SentRequest

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class SlackDriver:
    """Signs and sends. Its builders are `desk.sandbox.payloads`, with response_urls aimed at hooks_url."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        *,
        hooks_url: str | None = None,
        clock: Callable[[], float] = wall_time,
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.hooks_url = hooks_url
        self.clock = clock
        self.last_request: SentRequest | None = None

    # --- sending --------------------------------------------------------------------------------------

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """The two headers Slack adds; `secret` overrides the real one to forge a bad signature."""
        timestamp = int(self.clock()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature(body, secret=secret or self.signing_secret, timestamp=timestamp),
        }

    def send_event(
        self, body: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None,
        retry_num: int | None = None, retry_reason: str = "http_timeout", timeout: float = 10.0,
    ) -> Response:
        """An Events API delivery (an `event_callback` or `url_verification` body), as JSON."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        return self._send(SentRequest(raw, JSON), timestamp=timestamp, secret=secret, retry_num=retry_num,
                          retry_reason=retry_reason, timeout=timeout)

    def send_form(
        self, body: str | Mapping[str, str], *, timestamp: int | None = None, secret: str | None = None,
        retry_num: int | None = None, retry_reason: str = "http_timeout", timeout: float = 10.0,
    ) -> Response:
        """A url-encoded form (a slash command): the encoded string, or the fields to encode."""
        encoded = body if isinstance(body, str) else payloads.form_body(body)
        return self._send(SentRequest(encoded.encode(), FORM), timestamp=timestamp, secret=secret,
                          retry_num=retry_num, retry_reason=retry_reason, timeout=timeout)

    def send_interaction(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None,
        retry_num: int | None = None, retry_reason: str = "http_timeout", timeout: float = 10.0,
    ) -> Response:
        """An interactivity payload (button, modal, shortcut), as `payload=<url-encoded JSON>`."""
        raw = payloads.interaction_body(payload).encode()
        return self._send(SentRequest(raw, FORM), timestamp=timestamp, secret=secret, retry_num=retry_num,
                          retry_reason=retry_reason, timeout=timeout)

    def url_verification(self, challenge: str, *, timeout: float = 10.0) -> Response:
        """The handshake Slack sends when the Request URL is saved; the app must echo the challenge."""
        return self.send_event(payloads.url_verification(challenge), timeout=timeout)

    def redeliver(
        self, request: SentRequest | Response, *, retry_num: int = 1, retry_reason: str = "http_timeout",
        timeout: float = 10.0,
    ) -> Response:
        """Slack's retry: the identical body, a fresh timestamp and signature, and the retry headers."""
        sent = request.request if isinstance(request, Response) else request
        return self._send(sent, timestamp=None, secret=None, retry_num=retry_num, retry_reason=retry_reason,
                          timeout=timeout)

    def post_raw(
        self, body: bytes, headers: Mapping[str, str], *, sign: bool = True, timeout: float = 10.0
    ) -> Response:
        """Any bytes with any headers (malformed payloads); signed unless `sign=False` or already signed."""
        all_headers = dict(headers)
        if sign and not any(name.lower() == "x-slack-signature" for name in all_headers):
            all_headers.update(self.signed_headers(body))
        content_type = next(
            (value for name, value in all_headers.items() if name.lower() == "content-type"), ""
        )
        return self._post(SentRequest(body, content_type), all_headers, timeout)

    def _send(
        self, sent: SentRequest, *, timestamp: int | None, secret: str | None, retry_num: int | None,
        retry_reason: str, timeout: float,
    ) -> Response:
        headers = {"Content-Type": sent.content_type, **self.signed_headers(sent.body, timestamp=timestamp,
                                                                            secret=secret)}
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        return self._post(sent, headers, timeout)

    def _post(self, sent: SentRequest, headers: dict[str, str], timeout: float) -> Response:
        url = urlsplit(self.app_url)
        connection_class = http.client.HTTPConnection
        if url.scheme == "https":
            connection_class = http.client.HTTPSConnection
        connection = connection_class(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)", "Connection": "close",
                   **headers}
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=sent.body, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        self.last_request = sent
        return Response(status=answer.status, body=body,
                        headers={name.lower(): value for name, value in answer.getheaders()},
                        elapsed=time.perf_counter() - started, request=sent)

    # --- builders (pure; see desk.sandbox.payloads) ----------------------------------------------------

    event = staticmethod(payloads.event)
    message = staticmethod(payloads.message)
    message_event = staticmethod(payloads.message_event)
    message_changed = staticmethod(payloads.message_changed)
    message_deleted = staticmethod(payloads.message_deleted)
    app_mention = staticmethod(payloads.app_mention)
    reaction_added = staticmethod(payloads.reaction_added)
    app_home_opened = staticmethod(payloads.app_home_opened)
    member_joined_channel = staticmethod(payloads.member_joined_channel)
    view_submission = staticmethod(payloads.view_submission)
    view_closed = staticmethod(payloads.view_closed)
    global_shortcut = staticmethod(payloads.global_shortcut)

    def slash_command(
        self, text: str, *, user: str, user_team: str, channel: str, command: str = "/desk",
        team_id: str | None = None, **fields: Any,
    ) -> dict[str, str]:
        """`payloads.slash_command` whose response_url lands in the stand-in (when hooks_url is set)."""
        return payloads.slash_command(text, user=user, user_team=user_team, channel=channel, command=command,
                                      team_id=team_id, hooks_url=self.hooks_url, **fields)

    def block_action(self, action_id: str, *, user: str, user_team: str, **options: Any) -> Payload:
        """`payloads.block_action` whose response_url lands in the stand-in (when hooks_url is set)."""
        return payloads.block_action(action_id, user=user, user_team=user_team, hooks_url=self.hooks_url,
                                     **options)

    def message_shortcut(
        self, callback_id: str, *, user: str, user_team: str, channel: str, message: Mapping[str, Any],
        enterprise_id: str | None = None,
    ) -> Payload:
        """`payloads.message_shortcut` whose response_url lands in the stand-in (when hooks_url is set)."""
        return payloads.message_shortcut(callback_id, user=user, user_team=user_team, channel=channel,
                                         message=message, hooks_url=self.hooks_url, enterprise_id=enterprise_id)
