"""`GET /reports/sla?t=<token>`: the HTML SLA report, for whoever holds a signed link.

Not a Slack request, so not Slack-signed: the link's own signature is the only authority (see
`desk.services.report_links`). The token alone decides the scope; every other query parameter is ignored,
so `&council=fife` added to a Cherwell link changes nothing. Any problem with the token is one answer,
403 "This link is invalid or has expired", with the reason in the log only: a prober learns nothing
about why. A valid link of a council that has left the registry (inactive) is refused too, 403, saying so:
data access follows the registry. The token is a credential, so it is never logged.

The page is a self-contained document (inline styles, inline SVG charts), so the response forbids
everything else: no scripts, no fetches, no framing, no referrer (which would carry the token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

from sqlalchemy import Engine

from desk.clock import Clock
from desk.db import queries
from desk.db.engine import read_only
from desk.errors import NotFound
from desk.services.report_links import InvalidLink, verify
from desk.services.reports import build_report

log = logging.getLogger("desk.web.reports")

REPORT_PATH = "/reports/sla"
REPORT_TIMEOUT_SECONDS = 20.0  # a year of one council's tickets reads in well under a second

SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
]

INACTIVE_TEXT = "This link is for a council that desk no longer serves, so its report is no longer shared."
INACTIVE_ADVICE = "Ask the support team if you need the figures."

REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           500: "Internal Server Error"}


class ReportPage:
    """A WSGI app for one path; `DeskWsgi` hands it requests for `REPORT_PATH` before Bolt sees them."""

    def __init__(self, engine: Engine, clock: Clock, link_secret: bytes) -> None:
        self.engine, self.clock, self.link_secret = engine, clock, link_secret

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        from desk.rendering.reports import notice_html, to_html  # Jinja2: imported by the first page served

        if environ.get("REQUEST_METHOD", "GET") != "GET":
            return _page(start_response, 405, notice_html(
                "Method not allowed", "Only GET is supported here.",
                "Open the report's link in a web browser."), [("Allow", "GET")])
        tokens = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("t", [])
        now = self.clock.now()
        try:
            if len(tokens) != 1:  # none, or an attempt to smuggle a second one past a proxy or a log
                raise InvalidLink(f"{len(tokens)} tokens in the query")
            scope = verify(tokens[0], self.link_secret, now)
        except InvalidLink as err:
            log.info("report link refused: %s", err)
            return _page(start_response, 403, notice_html(
                "Link invalid or expired", "This link is invalid or has expired.",
                "Report links last 7 days unless made for longer. Ask a service manager for a new one "
                "(they make it with /desk report in Slack), and check the whole link was copied."))
        try:
            with read_only(self.engine, timeout_seconds=REPORT_TIMEOUT_SECONDS) as session:
                if scope.council_id is not None and not queries.get_council(session, scope.council_id).active:
                    log.info("report link refused: council %s is inactive", scope.council_id)
                    return _page(start_response, 403, notice_html("Report no longer shared", INACTIVE_TEXT,
                                                                  INACTIVE_ADVICE))
                report = build_report(session, start=scope.start, end=scope.end, council_id=scope.council_id,
                                      now=now)
            document = to_html(report, generated_at=now)
        except NotFound as err:  # a council removed from the registry since the link was made
            log.info("report link for %s: %s", scope.council_id, err)
            return _page(start_response, 404, notice_html(
                "Report not available", "This report is no longer available.",
                "The council it was made for is no longer in desk's registry. Ask a service manager."))
        except Exception:  # one page failing is a 500 with a log line, never a traceback to the reader
            log.exception("report page failed for %s %s..%s", scope.council_id or "all councils",
                          scope.start, scope.end)
            return _page(start_response, 500, notice_html(
                "Report not produced", "Sorry, the report could not be produced just now.",
                "Try the link again in a few minutes. If it still fails, tell the support team: the "
                "problem has been logged."))
        log.info("report page served: %s %s..%s", scope.council_id or "all councils", scope.start, scope.end)
        return _page(start_response, 200, document)


def _page(start_response: Callable, status: int, document: str,
          extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = document.encode("utf-8")
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
               *SECURITY_HEADERS, *(extra or [])]
    start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
    return [body]
