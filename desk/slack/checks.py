"""The checks a request to `POST /slack/events` passes before anything trusts it: size, deadline, signature,
then shape, in that order.

`DeskWsgi` (desk/slack/web.py) routes; this module only judges. Nothing of an unsigned body is parsed: the
body is read as bytes (at most `MAX_BODY`, within a deadline), its signature checked against those bytes,
and only a signed body is decoded as JSON or a form. Each check answers in plain values (a reason, or
None) and never raises on hostile input, so a bad request becomes one 4xx and one log line.

    BodyRefused    the body could not be read: too large (413), too slow (408), length unreadable (400/411)
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 1_000_000  # Slack's largest payloads (a modal's state) are a few tens of kilobytes
MAX_FORM_FIELDS = 100  # Slack sends at most a dozen form fields (a slash command)
SIGNATURE_WINDOW_SECONDS = 300  # Slack's rule: a request signed more than five minutes away is refused
CHUNK = 64 * 1024

# ASCII only: `str.isdigit()` is true for "²" and other digits `int()` may refuse or read differently.
TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)


class BodyRefused(Exception):
    """A body that was not read whole: `status` is the answer (408, 411, 413 or 400)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def read_body(environ: dict, *, deadline_seconds: float, limit: int = MAX_BODY) -> bytes:
    """The request body, read in chunks until its announced length, refused if it is longer than `limit`
    or does not arrive within `deadline_seconds` (a slow or idle client must not hold a thread).

    Under gunicorn each read is bounded by the time left (the client socket's timeout); desk's worker
    (`desk.http_worker`) normally has the whole request in memory before this runs, so this is the second
    line, for any WSGI server. A request that worker read whole (its socket says `whole`) cannot block, and
    its socket's timeout is left alone: setting it is two system calls, each letting go of the interpreter's
    lock, which under load costs a wait behind every other thread."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        raise BodyRefused(411, "a body without Content-Length (chunked) is not accepted")
    announced = environ.get("CONTENT_LENGTH") or "0"
    if not re.fullmatch(r"[0-9]{1,12}", announced, re.ASCII):
        raise BodyRefused(400, f"unreadable Content-Length {announced[:20]!r}")
    length = int(announced)
    if length > limit:
        raise BodyRefused(413, f"body of {length} bytes (at most {limit})")
    stream, sock = environ["wsgi.input"], environ.get("gunicorn.socket")
    if getattr(sock, "whole", False):
        sock = None  # in memory already: nothing to wait for
    deadline = time.monotonic() + deadline_seconds
    parts: list[bytes] = []
    received = 0
    previous = sock.gettimeout() if sock is not None else None
    try:
        while received < length:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BodyRefused(408, f"body not received within {deadline_seconds:g} s "
                                       f"({received} of {length} bytes)")
            if sock is not None:
                sock.settimeout(left)
            chunk = stream.read(min(CHUNK, length - received))
            if not chunk:
                raise BodyRefused(400, f"body ended after {received} of {length} bytes")
            parts.append(chunk)
            received += len(chunk)
    except TimeoutError:
        raise BodyRefused(408, f"body not received within {deadline_seconds:g} s "
                               f"({received} of {length} bytes)") from None
    except OSError as err:  # the client went away mid-body
        raise BodyRefused(400, f"body unreadable: {type(err).__name__}") from None
    finally:
        if sock is not None:
            sock.settimeout(previous)
    return b"".join(parts)


def signed(secret: bytes, body: bytes, timestamp: str, signature: str, *, now: float) -> bool:
    """Whether `body` carries Slack's signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, with a
    timestamp (ASCII digits) within five minutes of `now`, compared in constant time. Reads nothing else."""
    if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
        return False
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode("ascii") + b":" + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def parse_form(text: str) -> dict[str, list[str]]:
    """A url-encoded body, at most `MAX_FORM_FIELDS` fields (a signed body, but still bounded). Decoding a
    button's payload (hundreds of %-escapes) was once most of its ack (bench/ack_path.py claim --profile).

    Exactly what `parse_qs(text, keep_blank_values=True)` gives, but decoded in C when it can be: `unquote`
    decodes one escape at a time in Python (61 us for a claim's body, 12 us this way)."""
    if not text.isascii() or _NOT_AN_ESCAPE.search(text):  # what only parse_qs reads as it should
        return parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    if text.count("&") >= MAX_FORM_FIELDS:
        raise ValueError("Max number of fields exceeded")  # parse_qs's own refusal
    form: dict[str, list[str]] = {}
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            form.setdefault(_unquoted(name), []).append(_unquoted(value))
    return form


_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquoted(text: str) -> str:
    """A url-encoded name or value (ASCII, every `%` followed by two hex digits), decoded as `parse_qs`
    decodes it: `+` is a space, then UTF-8 with errors replaced. Through binascii's quoted-printable decoder,
    whose escapes are `=XX`: a literal `=` is made an escape first, so every `=` it sees starts one."""
    quoted = text.replace("+", " ").replace("=", "=3D").replace("%", "=")
    return binascii.a2b_qp(quoted).decode("utf-8", "replace")


PAYLOAD_TYPES = {"block_actions", "view_submission", "shortcut", "message_action"}


@dataclass(frozen=True, slots=True)
class Examined:
    """A signed body, read once: what it is (a `desk_requests_total` type) and Slack's own id for it
    (event_id or trigger_id), told as far as they can be even of a malformed body; what is wrong with it
    (None: it has the shape of something Slack sends); and, when nothing is, the request as Bolt reads it:
    ("event", the Events API document), ("command", a slash command's fields) or ("interaction", the
    payload of a button, shortcut or modal). None for a form that is neither (Slack's `ssl_check`)."""

    kind: str = "other"
    slack_id: str | None = None
    problem: str | None = None
    request: tuple[str, dict] | None = None


def examine(body: bytes, content_type: str) -> Examined:
    """Decode and parse a signed body once, and judge its shape; never raises (JSON nested too deep for the
    parser, or a form of too many fields, is a problem like any other)."""
    try:
        return _examine(body, content_type)
    except RecursionError:
        return Examined(problem="JSON nested too deeply")
    except ValueError as err:
        return Examined(problem=f"unreadable: {str(err)[:200]}")


def malformed(body: bytes, content_type: str) -> str | None:
    """What is wrong with a signed body, or None if it has the shape of something Slack sends."""
    return examine(body, content_type).problem


def _examine(body: bytes, content_type: str) -> Examined:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Examined(problem="not UTF-8")
    if content_type.startswith("application/json"):
        try:
            document = json.loads(text)
        except ValueError as err:
            return Examined(problem=f"not JSON: {err}")
        if not isinstance(document, dict):
            return Examined(problem="a JSON body must be an object with a type")
        kind = {"event_callback": "event", "url_verification": "url_verification"}.get(str(document.get("type")),
                                                                                       "other")
        return _judged(kind, _id(document.get("event_id")), _document_problem(document), ("event", document))
    form = parse_form(text)
    if "payload" in form:  # as Bolt reads a form: its payload first
        try:
            payload = json.loads(form["payload"][0])
        except ValueError as err:
            return Examined(problem=f"payload is not JSON: {err}")
        if not isinstance(payload, dict):
            return Examined(problem="payload must be an object with a type")
        kind = str(payload.get("type"))
        return _judged(kind if kind in PAYLOAD_TYPES else "other", _id(payload.get("trigger_id")),
                       _payload_problem(payload), ("interaction", payload))
    if form.get("ssl_check"):
        return Examined()  # Slack's check of the certificate: Bolt answers it
    if "command" in form:
        fields = {name: values[0] for name, values in form.items()}
        return _judged("command", _id(fields.get("trigger_id")), _command_problem(fields), ("command", fields))
    return Examined(problem="neither an event, a command nor an interaction")


def _judged(kind: str, slack_id: str | None, problem: str | None, request: tuple[str, dict]) -> Examined:
    return Examined(kind, slack_id, problem, None if problem is not None else request)


def _id(value: object) -> str | None:
    """An id from the body, if it looks like one (it goes into every log line of the request)."""
    if isinstance(value, str) and 0 < len(value) <= 64 and value.replace(".", "").replace("-", "").isalnum():
        return value
    return None


def _document_problem(document: dict) -> str | None:
    if not isinstance(document.get("type"), str):
        return "a JSON body must be an object with a type"
    if document["type"] != "event_callback":
        return None
    if not isinstance(document.get("event"), dict):
        return "an event_callback without an event object"
    event_id = document.get("event_id")
    if event_id is not None and not (isinstance(event_id, str) and 0 < len(event_id) <= ID_MAX):
        return f"an event_id that is not a string of at most {ID_MAX} characters"
    return _event_problem(document["event"])


def _payload_problem(payload: dict) -> str | None:
    if not isinstance(payload.get("type"), str):
        return "payload must be an object with a type"
    if not isinstance(payload.get("user"), dict) or not isinstance(payload["user"].get("id"), str):
        return "payload without a user id"
    if "response_url" in payload and not _is_url(payload["response_url"]):
        return "payload with a response_url that is not an http(s) URL"
    return _interaction_problem(payload)


def _command_problem(fields: dict[str, str]) -> str | None:
    missing = [k for k in ("user_id", "trigger_id", "response_url") if not fields.get(k)]
    if missing:
        return f"command without {', '.join(missing)}"
    if not _is_trigger(fields["trigger_id"]):
        return "command with a trigger_id that is not Slack's"
    return None if _is_url(fields["response_url"]) else "command with a response_url that is not a URL"


ID_MAX = 100  # Slack's ids and timestamps are far shorter; desk records deliveries by them (VARCHAR(200))

# The events desk listens to, and their fields it reads, which Slack always sends as strings when present.
EVENT_STRINGS = {
    "message": ("user", "channel", "ts", "thread_ts", "text", "subtype", "bot_id", "user_team", "source_team",
                "team"),
    "app_mention": ("user", "channel", "ts", "thread_ts", "text", "user_team", "source_team", "team"),
    "reaction_added": ("user", "reaction", "item_user", "user_team"),
    "app_home_opened": ("user", "channel", "tab", "user_team", "source_team", "team"),
}


def _event_problem(event: dict) -> str | None:
    """What an event desk listens to has of the wrong type (a list where its text goes, say)."""
    kind = event.get("type")
    if not isinstance(kind, str):
        return "an event without a type"
    wrong = [f"event.{key}" for key in EVENT_STRINGS.get(kind, ()) if not isinstance(event.get(key), str | None)]
    if any(len(event.get(key) or "") > ID_MAX for key in ("ts", "thread_ts") if isinstance(event.get(key), str)):
        wrong.append("event.ts")  # Slack's are 17 characters; desk keys deliveries and tickets by them
    if kind == "reaction_added" and not event.get("user"):
        wrong.append("event.user")  # whose reaction it is decides the tenant: Slack always names them
    item = event.get("item")
    if kind == "reaction_added" and not isinstance(item, dict):
        wrong.append("event.item")
    elif kind == "reaction_added":
        wrong += [f"event.item.{key}" for key in ("type", "channel", "ts") if not isinstance(item.get(key), str | None)]
    return f"{kind} event with {', '.join(wrong)} of the wrong type" if wrong else None


# Fields of interactions desk reads, which Slack always sends as strings when present: by the object that
# holds them ("" for the payload itself), in the order a refusal names them.
INTERACTION_STRINGS = (
    ("user", ("id", "team_id")), ("team", ("id", "enterprise_id")), ("channel", ("id",)),
    ("container", ("channel_id", "message_ts", "thread_ts")), ("message", ("ts", "user", "text")),
    ("view", ("id", "private_metadata")), ("", ("callback_id", "response_url")),
)
_STRING_OR_NONE = (str, type(None))


def _wrong_strings(payload: dict) -> list[str]:
    """The fields of INTERACTION_STRINGS present but not strings; each holder is an object or absent."""
    wrong: list[str] = []
    for holder, keys in INTERACTION_STRINGS:
        inner = payload.get(holder) if holder else payload
        if inner:
            wrong += [f"{holder}.{key}" if holder else key for key in keys
                      if not isinstance(inner.get(key), _STRING_OR_NONE)]
    return wrong


def _interaction_problem(payload: dict) -> str | None:
    """What an interaction lacks that Bolt reads before any listener runs (it would answer 500)."""
    kind = payload["type"]
    wrong = [key for key in ("channel", "container", "message", "team", "view", "state")
             if payload.get(key) is not None and not isinstance(payload[key], dict)]
    if wrong:
        return f"{kind} with {', '.join(wrong)} that should be objects"
    if not payload["user"]["id"]:
        return f"{kind} with an empty user id"
    actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    wrong = _wrong_strings(payload)
    wrong += [f"actions[{i}].{key}" for i, a in enumerate(actions) if isinstance(a, dict)
              for key in ("value", "selected_user", "block_id") if not isinstance(a.get(key), _STRING_OR_NONE)]
    wrong += [f"actions[{i}].selected_option" for i, a in enumerate(actions)
              if isinstance(a, dict) and not isinstance(a.get("selected_option"), dict | None)]
    if wrong:
        return f"{kind} with {', '.join(wrong)} of the wrong type"
    if len((payload.get("view") or {}).get("id") or "") > ID_MAX:
        return f"{kind} with a view id over {ID_MAX} characters"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(
                isinstance(action, dict) and isinstance(action.get("action_id"), str) for action in actions):
            return "block_actions without a list of actions, each with an action_id"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not all(isinstance(view.get(key), str) for key in ("type", "callback_id")):
            return f"{kind} without a view object with a type and a callback_id"
    if kind in ("shortcut", "message_action") and not isinstance(payload.get("callback_id"), str):
        return f"{kind} without a callback_id"
    if kind in ("block_actions", "shortcut", "message_action") and not _is_trigger(payload.get("trigger_id")):
        return f"{kind} without a trigger_id"  # Slack always sends one: a modal can only be opened with it
    return None


TRIGGER_ID = re.compile(r"^[0-9]+\.[0-9]+\.[0-9A-Za-z]+$")  # Slack's shape: 13345224609.738474920.8088930838d8


def _is_trigger(value: object) -> bool:
    return isinstance(value, str) and TRIGGER_ID.match(value) is not None


def _is_url(value: object) -> bool:
    """A response_url desk can answer through (Slack's are https; the local stand-in's are http)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("https", "http") and bool(parts.netloc)
