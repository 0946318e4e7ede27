"""`SocketModeDriver`: `SlackDriver`'s twin for Socket Mode, so one scenario runs in either mode.

The same builders (`message`, `block_action`, `slash_command`, …) and the same sending methods, but each
body goes out as an envelope on the Socket Mode stand-in's WebSocket instead of a signed HTTP request, and
the answer is the app's ack: `status` 200 with the ack's payload as `body` when it acked within `timeout`,
else status 0 and no body (Slack saw no ack). `redeliver` is Slack's retry: the same payload in a new
envelope with `retry_attempt` one higher. Signing options do not exist here (Socket Mode is not signed).

    socket = stand_in.enable_socket_mode()
    driver = SocketModeDriver(socket, hooks_url=stand_in.hooks_url)
    first = driver.send_event(driver.message("help", user="U1", user_team="T0CHW", channel="C0CHW"))
    driver.redeliver(first)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from desk.sandbox.driver import Response, SentRequest, SlackDriver
from desk.sandbox.socket_mode import EVENTS_API, INTERACTIVE, SLASH_COMMANDS, Envelope, SocketModeStandIn

ACK_TIMEOUT = 5.0  # seconds the driver waits for an ack before answering "no ack" (status 0)


@dataclass(frozen=True)
class SocketResponse(Response):
    """A `Response` whose request went out as `envelope`."""

    envelope: Envelope | None = None


class SocketModeDriver(SlackDriver):
    def __init__(self, socket: SocketModeStandIn, *, hooks_url: str | None = None,
                 connection: int | None = None) -> None:
        super().__init__(f"ws://127.0.0.1:{socket.port}/", "", hooks_url=hooks_url)
        self.socket = socket
        self.connection = connection  # None: Slack's choice (round robin over the open connections)

    def send_event(self, body: Mapping[str, Any], *, retry_num: int | None = None,  # type: ignore[override]
                   retry_reason: str = "timeout", timeout: float = ACK_TIMEOUT) -> SocketResponse:
        return self._deliver(EVENTS_API, dict(body), retry_num, retry_reason, timeout)

    def send_form(self, body: str | Mapping[str, str], *, retry_num: int | None = None,  # type: ignore[override]
                  retry_reason: str = "timeout", timeout: float = ACK_TIMEOUT) -> SocketResponse:
        """A slash command: its fields, or the form-encoded string HTTP would send (decoded here)."""
        fields = dict(parse_qsl(body, keep_blank_values=True)) if isinstance(body, str) else dict(body)
        return self._deliver(SLASH_COMMANDS, fields, retry_num, retry_reason, timeout)

    def send_interaction(self, payload: Mapping[str, Any], *, retry_num: int | None = None,  # type: ignore[override]
                         retry_reason: str = "timeout", timeout: float = ACK_TIMEOUT) -> SocketResponse:
        return self._deliver(INTERACTIVE, dict(payload), retry_num, retry_reason, timeout)

    def url_verification(self, challenge: str, *, timeout: float = ACK_TIMEOUT) -> Response:
        raise NotImplementedError("Socket Mode has no url_verification: the app-level token opens the link")

    def redeliver(self, request: SentRequest | Response, *, retry_num: int = 1,  # type: ignore[override]
                  retry_reason: str = "timeout", timeout: float = ACK_TIMEOUT) -> SocketResponse:
        envelope = request.envelope if isinstance(request, SocketResponse) else None
        if envelope is None:
            raise TypeError("redeliver takes a response this driver returned")
        return self._deliver(envelope.type, envelope.payload, retry_num, retry_reason, timeout)

    def post_raw(self, body: bytes, headers: Mapping[str, str], *, sign: bool = True,
                 timeout: float = 10.0) -> Response:
        raise NotImplementedError("Socket Mode has no raw HTTP bodies: send envelopes")

    def _deliver(self, kind: str, payload: dict[str, Any], retry_num: int | None, retry_reason: str,
                 timeout: float) -> SocketResponse:
        retry = {"retry_attempt": retry_num, "retry_reason": retry_reason} if retry_num else {}
        envelope = self.socket.send(kind, payload, connection=self.connection, **retry)
        sent = SentRequest(json.dumps(payload).encode(), kind)
        self.last_request = sent
        try:
            ack = self.socket.wait_ack(envelope, timeout=timeout)
        except AssertionError:
            return SocketResponse(status=0, body=b"", headers={}, elapsed=timeout, request=sent, envelope=envelope)
        body = json.dumps(ack.payload).encode() if ack.payload else b""
        headers = {"content-type": "application/json"} if ack.payload else {}
        return SocketResponse(status=200, body=body, headers=headers, elapsed=ack.after, request=sent,
                              envelope=envelope)
