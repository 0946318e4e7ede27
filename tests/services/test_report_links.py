"""Signed report links: a link grants exactly what was signed, until it expires, and nothing else."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from desk.services.report_links import InvalidLink, LinkMaker, LinkScope, derive_secret, sign, verify

SECRET = derive_secret("8f742231b10e8888abcd99yyyzzz85a5")
NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


def token(council: str | None = "cherwell", expires_at: datetime = NOW + timedelta(days=7)) -> str:
    return sign(council, *JANUARY, expires_at, SECRET)


def test_a_link_grants_what_was_signed() -> None:
    assert verify(token(), SECRET, NOW) == LinkScope("cherwell", *JANUARY, NOW + timedelta(days=7))
    assert verify(token(None), SECRET, NOW).council_id is None  # a managers' link: all councils


def test_a_link_expires_at_its_instant() -> None:
    expiring = token(expires_at=NOW + timedelta(hours=1))
    assert verify(expiring, SECRET, NOW + timedelta(minutes=59, seconds=59)).council_id == "cherwell"
    with pytest.raises(InvalidLink, match="expired"):
        verify(expiring, SECRET, NOW + timedelta(hours=1))


def test_another_secret_refuses_it() -> None:
    with pytest.raises(InvalidLink, match="bad signature"):
        verify(token(), derive_secret("another-signing-secret"), NOW)


def _swap_payload(original: str, **changes: object) -> str:
    body, signature = original.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**payload, **changes}).encode()).rstrip(b"=").decode()
    return f"{forged}.{signature}"


@pytest.mark.parametrize("changes", [{"c": "fife"}, {"c": None}, {"x": 4_102_444_800}, {"e": "2026-12-31"}])
def test_a_changed_payload_keeps_no_signature(changes: dict) -> None:
    with pytest.raises(InvalidLink, match="bad signature"):
        verify(_swap_payload(token(), **changes), SECRET, NOW)


def test_every_single_character_change_is_refused() -> None:
    original = token()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index, char in enumerate(original):
        if char == ".":
            continue
        other = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        with pytest.raises(InvalidLink):
            verify(original[:index] + other + original[index + 1:], SECRET, NOW)


@pytest.mark.parametrize("junk", ["", ".", "abc", "a.b.c", "a" * 2000 + ".b", "é.é", "YQ==.YQ==", "a b.c",
                                  token().replace(".", "")])
def test_malformed_tokens_are_refused_not_crashed_on(junk: str) -> None:
    with pytest.raises(InvalidLink):
        verify(junk, SECRET, NOW)


def test_the_signing_key_is_not_the_slack_signing_secret() -> None:
    assert SECRET != b"8f742231b10e8888abcd99yyyzzz85a5"
    assert derive_secret("a") != derive_secret("b")


def test_the_link_maker_builds_the_public_url() -> None:
    maker = LinkMaker("https://desk.example.gov.uk/", SECRET)
    url, expires_at = maker.url("fife", *JANUARY, now=NOW)
    assert url.startswith("https://desk.example.gov.uk/reports/sla?t=") and expires_at == NOW + timedelta(days=7)
    assert verify(url.split("t=", 1)[1], SECRET, NOW).council_id == "fife"
    assert repr(SECRET) not in repr(maker)


def test_sign_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        sign("cherwell", date(2026, 2, 1), date(2026, 1, 1), NOW, SECRET)
    with pytest.raises(ValueError):
        sign("cherwell", *JANUARY, datetime(2026, 2, 9), SECRET)
