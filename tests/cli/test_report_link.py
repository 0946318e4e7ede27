"""`desk report link` in-process, against a real database: a signed URL on stdout, what it grants on stderr.

The URL it prints is then checked with `verify`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from desk.clock import system_clock
from desk.services.report_links import InvalidLink, derive_secret, verify
from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str
         ) -> Callable[..., Result]:
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("DESK_PUBLIC_URL", "https://desk.example.gov.uk")

    def run(*args: str) -> Result:
        return run_desk(capsys, *args)

    assert run("db", "upgrade").code == 0 and run("playbooks", "sync").code == 0
    return run


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def test_prints_a_signed_link_for_one_council(desk) -> None:
    result = desk("report", "link", "--from", "2026-01-01", "--to", "2026-01-31", "--council", "cherwell")
    assert result.code == 0, result.err
    url = result.out.strip()
    assert url.startswith("https://desk.example.gov.uk/reports/sla?t=") and "\n" not in url
    scope = verify(token_of(url), derive_secret(SIGNING_SECRET), system_clock.now())
    assert (scope.council_id, str(scope.start), str(scope.end)) == ("cherwell", "2026-01-01", "2026-01-31")
    assert timedelta(days=6, hours=23) < scope.expires_at - system_clock.now() <= timedelta(days=7)
    assert "cherwell, 2026-01-01..2026-01-31; expires" in result.err
    assert SIGNING_SECRET not in result.out + result.err


def test_without_a_council_the_link_is_for_all_councils_and_days_sets_its_life(desk) -> None:
    result = desk("report", "link", "--from", "2026-01-01", "--to", "2026-01-07", "--days", "1")
    scope = verify(token_of(result.out.strip()), derive_secret(SIGNING_SECRET), system_clock.now())
    assert scope.council_id is None and scope.expires_at - system_clock.now() <= timedelta(days=1)


def test_desk_link_secret_replaces_the_derived_key(desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_LINK_SECRET", "rotate-me-to-revoke-every-link")
    url = desk("report", "link", "--from", "2026-01-01", "--to", "2026-01-07").out.strip()
    with pytest.raises(InvalidLink):
        verify(token_of(url), derive_secret(SIGNING_SECRET), system_clock.now())
    assert verify(token_of(url), derive_secret("rotate-me-to-revoke-every-link"), system_clock.now())


@pytest.mark.parametrize(("args", "problem"), [
    (("--from", "2026-01-31", "--to", "2026-01-01"), "--to: the report ends before it starts"),
    (("--from", "31/01/2026", "--to", "2026-02-01"), "--from: '31/01/2026' is not a date"),
    (("--from", "2026-01-01", "--to", "2026-01-31", "--council", "atlantis"), "--council: "),
    (("--from", "2026-01-01", "--to", "2026-01-31", "--days", "365"), "--days: between 1 and 90"),
])
def test_mistakes_are_named(desk, args: tuple[str, ...], problem: str) -> None:
    result = desk("report", "link", *args)
    assert result.code == 1 and problem in result.err and result.out == ""


def test_no_secret_no_link(desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    result = desk("report", "link", "--from", "2026-01-01", "--to", "2026-01-31")
    assert result.code == 1 and "SLACK_SIGNING_SECRET or DESK_LINK_SECRET" in result.err
