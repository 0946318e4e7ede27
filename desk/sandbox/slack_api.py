"""`SlackStandIn`: a local Slack Web API on 127.0.0.1 that checks, records and can misbehave.

The app under test talks to it over real HTTP with the real `slack_sdk.WebClient` (`base_url=api_url`), so
what is tested is what ships: argument encoding, retries, timeouts. Each call is checked against Slack's
method reference and Block Kit limits (refusals answer `ok: false` as Slack would, and land in
`violations` so a test fails even when the app swallows the error), recorded in `calls`, and answered from a
small stateful workspace. `inject()` scripts failures: 429 with Retry-After, `ok: false`, 5xx, latency,
dropped connections.

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        assert slack.violations == []
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from desk.sandbox import checks, web_hooks, web_methods
from desk.sandbox.api_reference import ApiReference, resolve_reference_dir
from desk.sandbox.call_log import Call, CallLog
from desk.sandbox.faults import Fault, FaultQueue, FaultWindow
from desk.sandbox.http_server import Outcome, StandInServer
from desk.sandbox.ids import BOT_ID, BOT_USER_ID, INSTALLED_TEAM_ID, wall_time
from desk.sandbox.rate_limits import RateLimits
from desk.sandbox.workspace import SlackError, Workspace

if TYPE_CHECKING:
    from desk.sandbox.socket_mode import SocketModeStandIn

RESPONSE_URL = "response_url"
UPLOAD = "upload"
SOCKET_MODE_OPEN = "apps.connections.open"
VIOLATING_ERRORS = frozenset({"invalid_arguments", "invalid_name", "invalid_trigger_id"})


class SlackStandIn:
    """The Web API stand-in. Fill `users`, `channels` and `usergroups` before the app looks them up."""

    def __init__(
        self,
        api_ref: Path | str | None = None,
        *,
        team_id: str = INSTALLED_TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | bool = False,
    ) -> None:
        self.reference = ApiReference(resolve_reference_dir(api_ref))
        self.workspace = Workspace(team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id)
        self._address = (host, port)
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None
        self.log = CallLog()
        self._faults = FaultQueue()
        self._state_lock = threading.Lock()  # the workspace is shared by the handler threads
        # Slack's per-method limits (429 + Retry-After): off unless asked for, see rate_limits.py
        self.rate_limits: RateLimits | None = (
            RateLimits() if rate_limits is True else rate_limits if isinstance(rate_limits, RateLimits) else None)
        self.socket_mode: SocketModeStandIn | None = None  # see `enable_socket_mode`

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind (port 0: a free port) and serve from a daemon thread; a second start is a no-op."""
        if self._server is not None:
            return self
        self._server = StandInServer(self._address, self)
        self.workspace.base_url = self.base_url
        # a short poll interval: stop() waits for the serving loop to notice, once per test
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="slack-stand-in", daemon=True)
        self._thread.start()
        return self

    def enable_socket_mode(self) -> SocketModeStandIn:
        """Start the Socket Mode side (a WebSocket server): `apps.connections.open` with an app-level token
        then answers with a URL to it. Stopped with the stand-in."""
        from desk.sandbox.socket_mode import SocketModeStandIn

        if self.socket_mode is None:
            self.socket_mode = SocketModeStandIn().start()
        return self.socket_mode

    def stop(self) -> None:
        """Stop serving and free the port; calls and violations stay readable."""
        if self.socket_mode is not None:
            self.socket_mode.stop()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Slack stand-in is not started: call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def api_url(self) -> str:
        """What `WebClient(base_url=...)` takes (and what `DESK_SLACK_API_URL` should be)."""
        return self.base_url + "api/"

    @property
    def hooks_url(self) -> str:
        """Base of response_url webhooks: point payloads' `response_url` below it."""
        return self.base_url + "hooks/"

    # --- workspace state ------------------------------------------------------------------------------

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        """user id -> {"id", "team_id", "name", "real_name", "tz"}, answered by users.info."""
        return self.workspace.users

    @users.setter
    def users(self, users: dict[str, dict[str, Any]]) -> None:
        self.workspace.users = users

    @property
    def teams(self) -> dict[str, dict[str, Any]]:
        """workspace id -> team.info fields; `{"enterprise_id": "E…"}` puts it (and its people) on Grid."""
        return self.workspace.teams

    @teams.setter
    def teams(self, teams: dict[str, dict[str, Any]]) -> None:
        self.workspace.teams = teams

    @property
    def channels(self) -> dict[str, dict[str, Any]]:
        """channel id -> conversations.info fields (plus "members" for conversations.members)."""
        return self.workspace.channels

    @channels.setter
    def channels(self, channels: dict[str, dict[str, Any]]) -> None:
        self.workspace.channels = channels

    @property
    def usergroups(self) -> dict[str, list[str]]:
        """user group id -> member user ids, answered by usergroups.users.list."""
        return self.workspace.usergroups

    @usergroups.setter
    def usergroups(self, usergroups: dict[str, list[str]]) -> None:
        self.workspace.usergroups = usergroups

    @property
    def lock(self) -> threading.Lock:
        """Held while a call changes the workspace: hold it to read a consistent picture."""
        return self._state_lock

    @property
    def messages(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(channel, ts) -> message: the bot's as posted (and updated), people's as the test adds them.

        conversations.history and .replies answer from here, so add the messages people "posted" (see
        `add_message`) before the app goes looking for them.
        """
        return self.workspace.messages

    def add_message(self, message: Mapping[str, Any], channel: str | None = None) -> dict[str, Any]:
        """Remember a person's message: a message event, or a whole `driver.message(...)` body.

        Slack keeps what people post; the stand-in only sees what the app posts, so a test that sends a
        message event and then expects the app to read it back (history, a thread) adds it here too.
        """
        event = message.get("event", message)
        channel = channel or event["channel"]
        envelope_only = ("channel", "event_ts", "channel_type")
        stored = {key: value for key, value in event.items() if key not in envelope_only}
        with self._state_lock:
            self.workspace.messages[(channel, str(stored["ts"]))] = stored
        return stored

    # --- recording ------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every call so far, oldest first (a snapshot: the app may still be calling)."""
        return self.log.calls

    @property
    def violations(self) -> list[str]:
        """Every refused call, as `method: problem`: assert it is empty at the end of each test."""
        return self.log.violations

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one Web API method, or to "response_url" / "upload" for the webhook endpoints."""
        return self.log.calls_to(method)

    def last(self, method: str) -> Call:
        """The latest call to `method`; an AssertionError listing what was called when there is none."""
        return self.log.last(method)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `count` calls to `method` (faulted ones included) arrived, and return them all.

        Needed because Bolt acks first and the app calls Slack afterwards, from another thread.
        """
        return self.log.wait_for(method, count, timeout)

    def reset(self) -> None:
        """Forget calls, violations and pending faults; users, channels and posted messages stay."""
        self.log.clear()
        self._faults.clear()

    # --- faults ---------------------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        *,
        times: int = 1,
        rate_limited: float | None = None,
        error: str | None = None,
        status: int | None = None,
        latency: float = 0.0,
        disconnect: bool = False,
    ) -> None:
        """Make the next `times` calls to `method` ("*": any call, including response_url) misbehave."""
        fault = Fault(rate_limited=rate_limited, error=error, status=status, latency=latency,
                      disconnect=disconnect)
        self._faults.add(method, fault, times)

    @property
    def faults(self) -> FaultQueue:
        """The fault queue and windows (`add`, `add_window`, `windows()`), for scripting beyond `inject`."""
        return self._faults

    def outage(
        self, faults: Fault | Sequence[Fault], *, seconds: float | None = None, methods: str | Iterable[str] = "*",
        where: Mapping[str, str] | None = None, seed: int | None = None,
    ) -> FaultWindow:
        """Slack misbehaves for a while: every matching call draws a fault from `faults` until `seconds` have
        passed or the window ends (it is a context manager). See `FaultQueue.add_window`."""
        return self._faults.add_window(methods, faults, seconds=seconds, where=where, seed=seed)

    @property
    def pending_faults(self) -> list[tuple[str, Fault, int]]:
        """Injected faults not yet consumed: (method, fault, calls left)."""
        return self._faults.pending()

    def enforce_rate_limits(self, limits: RateLimits | None = None) -> RateLimits:
        """Answer calls over Slack's documented limits with 429 + Retry-After from now on."""
        self.rate_limits = limits or RateLimits()
        return self.rate_limits

    # --- answering (called by the HTTP handler threads) -----------------------------------------------

    def answer_api(
        self, method: str, raw_args: dict[str, Any], *, token: str | None, is_json: bool,
        body_error: str | None = None,
    ) -> Outcome:
        """`POST /api/<method>`: check, then answer from the workspace (or as the next fault says)."""
        args = checks.decode_json_strings(raw_args)
        rejection = (
            checks.Rejection(body_error, [f"body: {body_error}"]) if body_error
            else checks.check_api_call(self.reference, method, args, token=token, is_json=is_json)
        )
        violations = [f"{method}: {problem}" for problem in rejection.problems] if rejection else []

        def normal_answer() -> Outcome:
            limits = self.rate_limits
            refusal = limits.check(self.reference, method, token, args) if limits is not None else None
            if refusal is not None:
                return Outcome.json(429, {"ok": False, "error": "ratelimited"}, refusal.header)
            if rejection is not None:
                return Outcome.json(200, rejection.body())
            if method == SOCKET_MODE_OPEN:
                return self._open_socket_mode(token)
            try:
                with self._state_lock:
                    return Outcome.json(200, web_methods.answer(self.workspace, method, args))
            except SlackError as refused:
                if refused.error in VIOLATING_ERRORS:
                    violations.extend(f"{method}: {refused.error}: {message}" for message in refused.messages
                                      or [refused.error])
                return Outcome.json(200, checks.Rejection(refused.error, refused.messages).body())

        return self._answer(method, args, token, normal_answer, violations)

    def _open_socket_mode(self, token: str | None) -> Outcome:
        """`apps.connections.open`: only an app-level token (xapp-…), only when Socket Mode is on."""
        if not (token or "").startswith("xapp-"):
            return Outcome.json(200, {"ok": False, "error": "invalid_auth"})  # Slack's answer to a bot token
        if self.socket_mode is None:
            return Outcome.json(200, {"ok": False, "error": "forbidden_team"})
        return Outcome.json(200, {"ok": True, "url": self.socket_mode.open_url()})

    def answer_hook(self, path: str, body: object) -> Outcome:
        """`POST /hooks/...`: a response_url message, recorded as method "response_url"."""
        rejection = checks.check_response_url_body(body)
        violations = [f"{RESPONSE_URL}: {problem}" for problem in rejection.problems] if rejection else []
        args = {**(body if isinstance(body, dict) else {"body": body}), "url": path}

        def normal_answer() -> Outcome:
            if rejection is not None:
                return Outcome.text(400, rejection.error)
            with self._state_lock:
                web_hooks.deliver(self.workspace, path, body)
            return Outcome.text(200, "ok")

        return self._answer(RESPONSE_URL, args, None, normal_answer, violations)

    def answer_upload(self, file_id: str, data: bytes) -> Outcome:
        """`POST /upload/<file_id>`: the bytes slack_sdk's files_upload_v2 sends to the issued upload_url."""
        violations: list[str] = []

        def normal_answer() -> Outcome:
            with self._state_lock:
                declared = self.workspace.files.get(file_id)
                if declared is None:
                    return Outcome.text(404, "file_not_found")
                if declared["length"] != len(data):
                    violations.append(f"{UPLOAD}: {file_id}: {len(data)} bytes sent, "
                                      f"{declared['length']} declared to files.getUploadURLExternal")
                self.workspace.uploads[file_id] = data
            return Outcome.text(200, f"OK - {len(data)}")

        args = {"file_id": file_id, "length": len(data)}
        return self._answer(UPLOAD, args, None, normal_answer, violations)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, normal_answer: Callable[[], Outcome],
        violations: list[str],
    ) -> Outcome:
        """Apply the next fault for this method, if any, around the normal answer, then record the call."""
        fault = self._faults.take(method, args)
        if fault is not None and fault.latency > 0:
            time.sleep(fault.latency)
        if fault is None or not fault.replaces_answer:
            outcome = normal_answer()
        elif fault.disconnect:
            outcome = Outcome.dropped()
        elif fault.rate_limited is not None:
            outcome = Outcome.json(429, {"ok": False, "error": "ratelimited"},
                                   {"Retry-After": fault.retry_after})
        elif method in (RESPONSE_URL, UPLOAD):  # webhooks answer in plain text, failures with 4xx/5xx
            outcome = Outcome.text(fault.status or 404, fault.error or f"http_{fault.status}")
        else:
            outcome = Outcome.json(fault.status or 200,
                                   {"ok": False, "error": fault.error or "internal_error"})
        response = outcome.parsed_body()
        self.log.record(Call(method, args, response, outcome.status, wall_time(), fault, token), violations)
        return outcome
