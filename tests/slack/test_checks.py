"""The front door's checks at the lowest layer: the signature, a bounded body read, a whole request.

(Through real processes: tests/security/test_unsigned_parsing.py and test_slow_clients.py.)
"""

from __future__ import annotations

import io
import json
import time
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.http_worker import Refusal, request_state, whole_request
from desk.sandbox.driver import signature
from desk.slack import checks
from desk.slack.checks import BodyRefused, malformed, read_body, signed

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = b'{"type": "url_verification", "challenge": "x"}'
NOW = 1_800_000_000


def sign(body: bytes = BODY, at: int = NOW) -> str:
    return signature(body, secret=SECRET, timestamp=at)


def test_a_good_signature_within_the_window_holds() -> None:
    assert signed(SECRET.encode(), BODY, str(NOW), sign(), now=NOW + 299)
    assert signed(SECRET.encode(), BODY, str(NOW), sign(), now=NOW - 299)


@pytest.mark.parametrize(("timestamp", "now"), [
    ("\u00b2", NOW),  # str.isdigit() is True for it
    ("\u0661\u0662\u0663", NOW),  # Arabic-Indic digits: int() reads them
    (" 1800000000", NOW), ("1800000000\n", NOW), ("+1800000000", NOW), ("", NOW), ("9" * 40, NOW),
    (str(NOW), NOW + 301), (str(NOW), NOW - 301),
])
def test_timestamps_that_are_not_ascii_digits_or_outside_the_window_fail(timestamp: str, now: int) -> None:
    assert not signed(SECRET.encode(), BODY, timestamp, sign(), now=now)


@pytest.mark.parametrize("forged", [sign().upper(), sign()[:-1], sign() + "0", "v1=" + sign()[3:],
                                    sign(b"other"), "", "v0=" + "é" * 64])
def test_any_other_signature_fails(forged: str) -> None:
    assert not signed(SECRET.encode(), BODY, str(NOW), forged, now=NOW)


def test_deep_json_and_wide_forms_are_reasons_not_exceptions() -> None:
    assert malformed(b"[" * 200_000, "application/json") == "JSON nested too deeply"
    assert "unreadable" in str(malformed(b"&".join([b"a="] * 249_000), "application/x-www-form-urlencoded"))
    assert malformed(b"payload=" + b"%5B" * 100_000, "application/x-www-form-urlencoded") == "JSON nested too deeply"


FORM = "application/x-www-form-urlencoded"


def test_a_signed_body_is_read_once_into_what_bolt_reads_and_what_the_logs_say() -> None:
    """`examine` is the one decode and parse of a request: its type and Slack's id (for the metrics and the
    request id), what is wrong with it, and, only when nothing is, the request Bolt would read from it."""
    event = {"type": "event_callback", "event_id": "Ev0123ABC", "event": {"type": "message", "text": "hi"}}
    seen = checks.examine(json.dumps(event).encode(), "application/json")
    assert (seen.kind, seen.slack_id, seen.problem, seen.request) == ("event", "Ev0123ABC", None, ("event", event))

    command = {"command": "/desk", "text": "list", "user_id": "U1", "trigger_id": "13345224609.738474920.8088",
               "response_url": "https://hooks.slack.com/commands/T1/1/x"}
    seen = checks.examine(urlencode(command).encode(), FORM)
    assert (seen.kind, seen.slack_id, seen.request) == ("command", command["trigger_id"], ("command", command))

    # a form with a payload is an interaction, as Bolt reads it, whatever else it carries
    payload = {"type": "block_actions", "user": {"id": "U1"}, "trigger_id": "13345224609.738474920.8088",
               "actions": [{"action_id": "claim", "value": "CHW-1"}]}
    seen = checks.examine(urlencode({"payload": json.dumps(payload), "command": "/desk"}).encode(), FORM)
    assert (seen.kind, seen.request) == ("block_actions", ("interaction", payload))

    # malformed: still described for the logs and metrics, but nothing for Bolt or the front to act on
    seen = checks.examine(urlencode({"payload": json.dumps({**payload, "actions": []})}).encode(), FORM)
    assert (seen.kind, seen.slack_id, seen.request) == ("block_actions", payload["trigger_id"], None)
    assert seen.problem == "block_actions without a list of actions, each with an action_id"
    wrong = {**payload, "channel": {"id": 7}, "actions": [{"action_id": "claim", "value": ["CHW-1"]}]}
    assert checks.malformed(urlencode({"payload": json.dumps(wrong)}).encode(), FORM) == (
        "block_actions with channel.id, actions[0].value of the wrong type")

    # Slack's certificate check: well formed, and Bolt's to answer
    assert checks.examine(b"ssl_check=1&token=x", FORM) == checks.Examined()


class Trickle(io.RawIOBase):
    """A body that arrives one byte every `pause` seconds."""

    def __init__(self, data: bytes, pause: float):
        self.data, self.pause = data, pause

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.pause)
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


def test_a_body_is_read_within_its_deadline_and_size() -> None:
    environ = {"CONTENT_LENGTH": str(len(BODY)), "wsgi.input": io.BytesIO(BODY)}
    assert read_body(environ, deadline_seconds=1) == BODY
    with pytest.raises(BodyRefused) as refused:
        read_body({"CONTENT_LENGTH": "2000", "wsgi.input": Trickle(b"x" * 2000, 0.05)}, deadline_seconds=0.3)
    assert refused.value.status == 408
    for environ, status in (({"CONTENT_LENGTH": "2000000"}, 413), ({"CONTENT_LENGTH": "\u00b2"}, 400),
                            ({"CONTENT_LENGTH": "-1"}, 400), ({"HTTP_TRANSFER_ENCODING": "chunked"}, 411),
                            ({"CONTENT_LENGTH": "10", "wsgi.input": io.BytesIO(b"short")}, 400)):
        with pytest.raises(BodyRefused) as refused:
            read_body({"wsgi.input": io.BytesIO(b""), **environ}, deadline_seconds=1)
        assert refused.value.status == status, environ


def head(length: int | str, *extra: str) -> bytes:
    return "\r\n".join(["POST /slack/events HTTP/1.1", "Host: x", f"Content-Length: {length}", *extra,
                        "", ""]).encode()


def test_a_request_is_whole_only_with_its_headers_and_announced_body() -> None:
    assert request_state(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", max_body=100) is True
    assert request_state(b"GET /healthz HTTP/1.1\r\nHost:", max_body=100) is False
    assert request_state(head(5) + b"abc", max_body=100) is False
    assert request_state(head(5) + b"abcde", max_body=100) is True
    assert request_state(head(500), max_body=100) == Refusal(413, "a body of 500 bytes (at most 100)")
    assert request_state(head(5, "Transfer-Encoding: chunked"), max_body=100).status == 411  # type: ignore[union-attr]
    assert request_state(head("\u00b2"), max_body=100).status == 400  # type: ignore[union-attr]
    assert request_state(head(5, "Content-Length: 6"), max_body=100).status == 400  # type: ignore[union-attr]
    assert request_state(b"x" * 40_000, max_body=100).status == 431  # type: ignore[union-attr]


def test_only_a_plain_http_1_1_request_is_read_at_the_front_door() -> None:
    plain = head(5, "Content-Type: application/json", "X-Slack-Signature:  v0=abc ") + b"abcde" + b"GET / HTTP/1.1"
    method, target, headers, body, size = whole_request(plain)  # type: ignore[misc]
    assert (method, target, body) == ("POST", "/slack/events", b"abcde")
    assert headers == {"host": "x", "content-length": "5", "content-type": "application/json",
                       "x-slack-signature": "v0=abc"}
    assert plain[size:] == b"GET / HTTP/1.1"  # what follows is the next request's
    assert whole_request(head(5, "Connection: Keep-Alive") + b"abcde") is not None
    assert whole_request(head(5, "Connection: close") + b"abcde") is not None  # the worker keeps it from the door
    for odd in (head(5).replace(b"HTTP/1.1", b"HTTP/1.0") + b"abcde",  # another version
                head(5).replace(b"POST /slack", b"POST  /slack") + b"abcde",  # four parts to the request line
                head(5).replace(b"POST /slack", b"POST slack") + b"abcde",  # not a path
                head(5).replace(b"POST", b"PO(T") + b"abcde",  # not a token
                head(5, "Content-Length: 5") + b"abcde",  # a header twice
                head(5, " folded") + b"abcde",  # an obsolete line folding
                head(5, "Bad Name: 1") + b"abcde",
                head(5, "X-Thing: a\x01b") + b"abcde",  # a control character in a value
                head(5, "Transfer-Encoding: identity") + b"abcde",
                head(5, "Expect: 100-continue") + b"abcde",
                head(5, "Upgrade: h2c", "Connection: Upgrade") + b"abcde",
                head(5, "Connection: keep-alive, Upgrade") + b"abcde",
                head(9) + b"abcde",  # not whole
                head("+5") + b"abcde"):
        assert whole_request(odd) is None, odd


# pieces of forms, well and badly made: escapes whole, cut short, not hex, of bytes that are not UTF-8
_FORM_TEXT = st.lists(st.sampled_from(list("%=&+ aZ09fF\n\r;/é😀") + [
    "%2", "%4", "%C3%A9", "%E2%82", "%zz", "%0A", "%3D", "%26", "%2B", "%25", "%ff", "%F0%9F%98%80"]),
    max_size=40).map("".join)


@given(fields=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=80)), max_size=12))
def test_a_form_is_decoded_as_parse_qs_decodes_it(fields: list[tuple[str, str]]) -> None:
    """`parse_form` decodes in C where it can (binascii), and must give exactly what the standard library's
    parse_qs gives: for forms as Slack encodes them, and for any text at all."""
    encoded = urlencode(fields)
    assert checks.parse_form(encoded) == parse_qs(encoded, keep_blank_values=True)


@given(text=_FORM_TEXT)
def test_any_text_is_decoded_as_parse_qs_decodes_it(text: str) -> None:
    assert checks.parse_form(text) == parse_qs(text, keep_blank_values=True)


def test_a_form_of_too_many_fields_is_refused_either_way() -> None:
    for text in ("a=1&" * checks.MAX_FORM_FIELDS, "a=%zz&" * checks.MAX_FORM_FIELDS):
        with pytest.raises(ValueError, match="Max number of fields"):
            checks.parse_form(text)
    assert len(checks.parse_form("a=1&" * (checks.MAX_FORM_FIELDS - 1))["a"]) == checks.MAX_FORM_FIELDS - 1
