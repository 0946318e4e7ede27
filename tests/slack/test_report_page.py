"""`GET /reports/sla?t=…` over plain HTTP: the token alone decides what is shown, and a bad one gets 403.

Tested as an attacker would: a forged scope, a link from another deployment, an expired link, a second
`t`, extra query parameters naming another council, other methods and paths.
"""

from __future__ import annotations

import http.client
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest

from desk.db.engine import unit_of_work
from desk.services.report_links import derive_secret, sign
from tests.services.test_reports import END, START, seed
from tests.slack.conftest import Desk

FORBIDDEN = "This link is invalid or has expired"


@pytest.fixture
def site(desk: Desk) -> Desk:
    with unit_of_work(desk.engine) as session:
        seed(session)
    desk.clock.at = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    return desk


def token(desk: Desk, council: str | None, *, start: date = START, end: date = END,
          valid_for: timedelta = timedelta(days=7), secret: bytes | None = None) -> str:
    key = secret if secret is not None else desk.wiring.report_links().secret
    return sign(council, start, end, desk.clock.now() + valid_for, key)


def get(desk: Desk, target: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    app = urlsplit(desk.driver.app_url)
    connection = http.client.HTTPConnection(app.hostname, app.port, timeout=10)
    try:
        connection.request(method, target)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
    finally:
        connection.close()


def page(desk: Desk, link: str, extra: str = "") -> tuple[int, dict[str, str], str]:
    return get(desk, f"/reports/sla?t={quote(link)}{extra}")


def test_a_council_link_shows_that_council_and_no_other(site: Desk) -> None:
    status, headers, body = page(site, token(site, "cherwell"))
    assert status == 200, body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "Cherwell District Council" in body and "CHW-4" in body
    assert "Fife" not in body and "FIFE-" not in body


def test_query_parameters_cannot_widen_a_link(site: Desk) -> None:
    link = token(site, "cherwell")
    for extra in ("&council=fife", "&council_id=fife&c=fife", "&t2=x", "&start=2025-01-01"):
        status, _, body = page(site, link, extra)
        assert status == 200 and "FIFE-" not in body and "Fife" not in body, extra
    status, _, body = page(site, link, f"&t={quote(token(site, None))}")  # a second token: refused outright
    assert status == 403 and FORBIDDEN in body


def test_a_managers_link_shows_every_council(site: Desk) -> None:
    status, _, body = page(site, token(site, None))
    assert status == 200 and "Cherwell District Council" in body and "Fife Council" in body


def test_the_page_forbids_everything_it_does_not_need(site: Desk) -> None:
    for status, headers, _ in (page(site, token(site, "fife")), page(site, "forged.token")):
        assert status in (200, 403)
        assert headers["cache-control"] == "no-store" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
        policy = headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        assert "script-src" not in policy and "frame-ancestors 'none'" in policy


def _tampered(link: str) -> str:
    body, signature = link.split(".")
    return f"{body}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


@pytest.mark.parametrize("link", [
    pytest.param(lambda d: _tampered(token(d, "cherwell")), id="wrong-signature"),
    pytest.param(lambda d: token(d, "cherwell", valid_for=timedelta(seconds=-1)), id="expired"),
    pytest.param(lambda d: token(d, None, secret=derive_secret("another deployment")), id="other-key"),
    pytest.param(lambda d: token(d, "fife").split(".")[0] + "." + token(d, "cherwell").split(".")[1],
                 id="spliced"),
    pytest.param(lambda d: "", id="empty"),
    pytest.param(lambda d: "x" * 5000, id="huge"),
])
def test_a_wrong_or_expired_link_gets_403(site: Desk, link) -> None:
    status, headers, body = page(site, link(site))
    assert status == 403 and FORBIDDEN in body and headers["content-type"] == "text/html; charset=utf-8"
    assert "Cherwell" not in body and "CHW-" not in body


def test_a_link_stops_working_when_it_expires(site: Desk) -> None:
    link = token(site, "cherwell", valid_for=timedelta(hours=1))
    assert page(site, link)[0] == 200
    site.clock.advance(hours=1)
    assert page(site, link)[0] == 403


def test_no_token_and_other_methods(site: Desk) -> None:
    assert get(site, "/reports/sla")[0] == 403
    assert get(site, "/reports/sla?t=")[0] == 403
    assert get(site, f"/reports/sla?t={token(site, 'cherwell')}", method="POST")[0] == 405
    assert get(site, "/reports/sla/../sla?t=x")[0] in (403, 404)
    assert get(site, "/reports")[0] == 404


def test_a_removed_council_is_no_longer_available(site: Desk) -> None:
    status, _, body = page(site, token(site, "atlantis"))
    assert status == 404 and "no longer available" in body
