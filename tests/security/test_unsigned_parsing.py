"""Issue 12, finding 3: nothing of an unsigned body is parsed, and no body of any shape is a 500.

A real `desk serve --http` on 127.0.0.1. Before the fix, the front door decoded the body (JSON, or the
form) to find its type before checking the signature: a timestamp header of `²` (`str.isdigit()` is true
for it, `int()` is not) and a body of 200,000 `[` each gave a 500 with a traceback, and a 1 MB form of
249k fields cost a parse before anything was verified. Now the signature is checked on the raw bytes
first (ASCII-digit timestamp, five-minute window, constant-time comparison); a signed body that is still
broken is a 400. Each refusal is one `rejected:` log line, never a traceback.
"""

from __future__ import annotations

import http.client
import time

import pytest

from desk.sandbox.driver import signature
from tests.security.frontdoor import Served, log_records, served
from tests.slack.conftest import SECRET

DEEP = b"[" * 200_000
WIDE_FORM = b"&".join([b"a="] * 249_000)  # 249k fields, 0.75 MB


def post(desk: Served, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """A POST with headers sent as given (latin-1 on the wire, as HTTP/1.1 allows)."""
    connection = http.client.HTTPConnection("127.0.0.1", desk.port, timeout=15)
    try:
        connection.request("POST", "/slack/events", body=body, headers={"Content-Length": str(len(body)), **headers})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def rejections(desk: Served) -> list[str]:
    return [r["message"] for r in log_records(desk.log) if r.get("message", "").startswith("rejected:")]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("unsigned")
    with served(f"sqlite:///{tmp_path / 'desk.db'}", tmp_path) as desk:
        yield desk


UNSIGNED = {
    "superscript-two timestamp": (b'{"type": "event_callback"}', "application/json",
                                  {"X-Slack-Request-Timestamp": "\u00b2", "X-Slack-Signature": "v0=" + "0" * 64}),
    "200,000 [": (DEEP, "application/json", {}),
    "broken JSON": (b'{"type": "event_callback", "event": {', "application/json", {}),
    "a form of 249k fields": (WIDE_FORM, "application/x-www-form-urlencoded", {}),
    "a payload of 200,000 [": (b"payload=" + b"%5B" * 100_000, "application/x-www-form-urlencoded", {}),
}


@pytest.mark.parametrize("case", sorted(UNSIGNED))
def test_an_unsigned_body_of_any_shape_is_401_and_one_log_line(desk: Served, case: str) -> None:
    body, content_type, headers = UNSIGNED[case]
    before = len(rejections(desk))
    status, answer = post(desk, body, {"Content-Type": content_type, **headers})
    assert status == 401, (status, answer[:300])
    assert rejections(desk)[before:] == ["rejected: bad, stale or missing signature"]
    assert "Traceback" not in desk.log_text()


SIGNED_BROKEN = {
    "200,000 [": (DEEP, "application/json"),
    "broken JSON": (b'{"type": "event_callback", "event": {', "application/json"),
    "a form of 249k fields": (WIDE_FORM, "application/x-www-form-urlencoded"),
    "a payload of 200,000 [": (b"payload=" + b"%5B" * 100_000, "application/x-www-form-urlencoded"),
    "not UTF-8": (b"\xff\xfe{}", "application/json"),
}


@pytest.mark.parametrize("case", sorted(SIGNED_BROKEN))
def test_a_signed_but_malformed_body_is_400_and_one_log_line(desk: Served, case: str) -> None:
    body, content_type = SIGNED_BROKEN[case]
    before = len(rejections(desk))
    timestamp = str(int(time.time()))
    status, answer = post(desk, body, {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
                                       "X-Slack-Signature": signature(body, secret=SECRET, timestamp=int(timestamp))})
    assert status == 400, (status, answer[:300])
    new = rejections(desk)[before:]
    assert len(new) == 1 and new[0].startswith("rejected: malformed payload"), new
    assert "Traceback" not in desk.log_text()


def test_the_signature_window_and_the_comparison_hold(desk: Served) -> None:
    body = b'{"type": "url_verification", "challenge": "abc"}'
    for offset in (-301, 301):  # just outside Slack's five minutes, either way
        stamp = int(time.time()) + offset
        status, _ = post(desk, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(stamp),
                                      "X-Slack-Signature": signature(body, secret=SECRET, timestamp=stamp)})
        assert status == 401
    stamp = int(time.time())
    good = signature(body, secret=SECRET, timestamp=stamp)
    for forged in (good.upper().replace("V0=", "v0="), good[:-1] + ("0" if good[-1] != "0" else "1"), good + "0"):
        status, _ = post(desk, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(stamp),
                                      "X-Slack-Signature": forged})
        assert status == 401, forged
    status, answer = post(desk, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(stamp),
                                       "X-Slack-Signature": good})
    assert status == 200 and b"abc" in answer
