"""The console's web front: its page and static files, the JSON API under `/sandbox/api/`, and desk.

One port serves it all, as one Slack would: the page at `/`, the API the page (and tests, and demo
scripts) use, uploaded files under `/sandbox/files/`, and every other path (`/slack/events`, `/healthz`,
report pages) goes to desk's own WSGI app unchanged. Errors are 4xx with `{"error": "…"}` naming what is
wrong; one action runs at a time, as if one person were at the keyboard.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from desk.sandbox import console_reads
from desk.sandbox.console_actions import ActionError, Console

log = logging.getLogger("desk.sandbox")

STATIC = Path(__file__).resolve().parent / "console"
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
ACTIONS = ("say", "react", "command", "click", "submit", "clock", "shortcut", "home")
MAX_BODY = 256 * 1024


class ConsoleWsgi:
    def __init__(self, console: Console, desk: WsgiApp) -> None:
        self.console, self.desk = console, desk
        self._one_at_a_time = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/" or path == "/index.html":
            return self._file(start_response, STATIC / "index.html")
        if path.startswith("/sandbox/static/"):
            name = path.removeprefix("/sandbox/static/")
            target = (STATIC / name).resolve()
            if STATIC not in target.parents or not target.is_file():
                return _json(start_response, 404, {"error": f"no file {name}"})
            return self._file(start_response, target)
        if path.startswith("/sandbox/files/"):
            return self._upload(start_response, path.removeprefix("/sandbox/files/"))
        if path.startswith("/sandbox/api/"):
            return self._api(environ, start_response, path.removeprefix("/sandbox/api/"))
        return self.desk(environ, start_response)

    # --- the API ----------------------------------------------------------------------------------------

    def _api(self, environ: dict, start_response: Callable, name: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        query = {key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if name in ("state", "messages", "view", "violations"):
                if method != "GET":
                    return _json(start_response, 405, {"error": f"{name} is read with GET"})
                return _json(start_response, 200, self._read(name, query))
            if name not in ACTIONS:
                return _json(start_response, 404, {"error": f"no endpoint /sandbox/api/{name}"})
            if method != "POST":
                return _json(start_response, 405, {"error": f"{name} is a POST with a JSON body"})
            body = _body(environ)
            with self._one_at_a_time:
                answer = {"clock": self.console.clock_to}.get(name) or getattr(self.console, name)
                return _json(start_response, 200, answer(body))
        except ActionError as err:
            return _json(start_response, err.status, {"error": str(err)})
        except Exception as err:  # the console's own failure: say so, and keep serving
            log.exception("sandbox api %s failed", name)
            return _json(start_response, 500, {"error": f"the sandbox failed: {type(err).__name__}: {err}"})

    def _read(self, name: str, query: dict[str, str]) -> Any:
        console = self.console
        if name == "state":
            return console_reads.state(console.population, console.clock.now().isoformat(),
                                       console.slack.violations, console.shortcuts)
        if name == "violations":
            return console.slack.violations
        if name == "view":
            found = console_reads.view(console.slack, query.get("id"))
            if found is None:
                raise ActionError(f"`id`: no view {query.get('id')!r}", 404)
            return found
        channel = query.get("channel")
        if not channel:
            raise ActionError("`channel` is required: /sandbox/api/messages?channel=C…")
        viewer = query.get("as")
        if viewer is not None:
            console.person(viewer)
        if console.population.channel(console_reads.conversation_of(console.population, channel)) is None \
                and console.population.person(channel) is None:
            raise ActionError(f"`channel`: no channel or person {channel!r} in the sandbox", 404)
        return console_reads.messages(console.slack, console.population, channel, viewer, console.clock.at_wall)

    # --- files ------------------------------------------------------------------------------------------

    def _file(self, start_response: Callable, path: Path) -> Iterable[bytes]:
        content = path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text") or
                                   kind.endswith("javascript") else kind),
                                  ("Content-Length", str(len(content))), ("Cache-Control", "no-cache")])
        return [content]

    def _upload(self, start_response: Callable, file_id: str) -> Iterable[bytes]:
        with self.console.slack.lock:
            content = self.console.slack.workspace.uploads.get(file_id)
            record = self.console.slack.workspace.files.get(file_id, {})
        if content is None:
            return _json(start_response, 404, {"error": f"no file {file_id}"})
        kind = mimetypes.guess_type(str(record.get("name") or ""))[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(content)))])
        return [content]


def _body(environ: dict) -> dict:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ActionError("Content-Length is not a number") from None
    if length > MAX_BODY:
        raise ActionError(f"the body is {length} bytes; at most {MAX_BODY}", 413)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        decoded = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ActionError(f"the body is not JSON: {err}") from None
    if not isinstance(decoded, dict):
        raise ActionError("the body must be a JSON object")
    return decoded


def _json(start_response: Callable, status: int, body: Any) -> Iterable[bytes]:
    content = json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Too Large",
              500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(content)))])
    return [content]
