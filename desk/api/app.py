"""The read-only council API, `/api/v1/...`: a plain WSGI app that DeskWsgi hands `/api/` paths to.

    GET /api/v1/tickets            the token's council's tickets (status, opened_after, limit, cursor)
    GET /api/v1/tickets?q=WORDS    the token's council's tickets found by their words, best first (limit)
    GET /api/v1/tickets/{ref}      one ticket, its history and its SLA replayed as of now
    GET /api/v1/sla                SLA state of open tickets, or of tickets opened in a from/to window

Tenancy: `Authorization: Bearer <token>` names the council, and nothing else can. Every query is
scoped to that council, a ref of another council is "not found" exactly like a ref that does not
exist, and a `council` parameter is refused. Paths are matched whole against fixed patterns and never
normalised, so `..`, encoded slashes, NUL bytes and overlong refs simply match no route.

Order of checks: method (405), token (401; 403 if its council is no longer in the registry), route (404),
parameters (400). Every answer is JSON,
`Cache-Control: no-store`; instants are ISO 8601 with an offset. Nothing is ever written but a
token's `last_used_at`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from desk.api import params
from desk.api.params import BadRequest
from desk.clock import Clock
from desk.db import queries
from desk.db.engine import read_only, unit_of_work
from desk.db.tables import CouncilRow
from desk.services import api_tokens, council_data, search
from desk.services.council_data import TicketFilter

log = logging.getLogger("desk.api")

PREFIX = "/api/"
REF = re.compile(r"[A-Za-z]{2,6}-[1-9][0-9]{0,9}", re.ASCII)
READ_TIMEOUT_SECONDS = 10.0  # PostgreSQL statement timeout for one request's reads
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 500: "Internal Server Error"}

Response = tuple[int, dict, list[tuple[str, str]]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or []


class CouncilApi:
    """WSGI callable: one read-only transaction per request (SQLite's write lock is never taken for a read),
    `now` from the wiring's clock."""

    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = environ.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex[:12]
        try:
            status, document, headers = self._handle(environ)
        except ApiError as err:
            status, document, headers = err.status, {"error": err.code, "message": err.message}, err.headers
            log.info("api %s: %s %s", request_id, err.status, err.code)
        except BadRequest as err:
            status, document, headers = 400, {"error": err.code, "message": err.message}, []
            log.info("api %s: 400 %s", request_id, err.code)
        except Exception:  # the one place an unexpected failure becomes a JSON 500 instead of a traceback
            log.exception("api %s: failed", request_id)
            document = {"error": "internal", "message": f"request {request_id} failed"}
            status, headers = 500, []
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        start_response(f"{status} {REASONS.get(status, 'Error')}", [
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), *headers])
        return [body]

    def _handle(self, environ: dict) -> Response:
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            raise ApiError(405, "method_not_allowed", "the API is read-only: use GET", [("Allow", "GET")])
        now = self.clock.now()
        secret = _bearer(environ.get("HTTP_AUTHORIZATION", ""))
        council_id = self._authenticate(secret, now)
        route, ref = _route(environ.get("PATH_INFO", ""))
        query = environ.get("QUERY_STRING", "")
        with read_only(self.engine, timeout_seconds=READ_TIMEOUT_SECONDS) as session:
            if route == "tickets":
                parsed = params.parse_query(query, TICKETS_PARAMS)
                if "q" in parsed:
                    return 200, self._search(session, council_id, parsed, now), []
                return 200, self._tickets(session, council_id, parsed), []
            if route == "sla":
                return 200, self._sla(session, council_id, params.parse_query(query, SLA_PARAMS), now), []
            params.parse_query(query, ())
            return 200, self._ticket(session, council_id, ref, now), []

    def _authenticate(self, secret: str, now: datetime) -> str:
        """The token's council, or 401 (no live token) or 403 (the council is no longer served: its data
        access follows the registry). Reads without the write lock; notes the use at most once a minute."""
        token, active = None, False
        if secret:
            with read_only(self.engine) as session:
                token = api_tokens.find(session, secret)
                council = session.get(CouncilRow, token.council_id) if token is not None else None
                active = council is not None and council.active
        if token is not None and not active:
            raise ApiError(403, "council_inactive", f"council {token.council_id} is no longer served by desk "
                           "(it is not in the registry): its API tokens give no access")
        if token is None or token.id is None or token.revoked_at is not None:
            code = "invalid_token" if secret else "missing_token"
            raise ApiError(401, code, "send Authorization: Bearer <token> with a live token of your council",
                           [("WWW-Authenticate", f'Bearer realm="desk", error="{code}"')])
        if api_tokens.needs_recording(token, now):
            with unit_of_work(self.engine) as session:
                api_tokens.record_use(session, token_id=token.id, at=now)
        return token.council_id

    def _tickets(self, session: Session, council_id: str, query: dict[str, str]) -> dict:
        where = TicketFilter(status=params.status(query), opened_from=params.instant(query, "opened_after"),
                             after_number=params.cursor(query))
        rows, after = council_data.list_council_tickets(session, council_id, where, params.limit(query))
        return {"council": council_id, "tickets": [council_data.ticket_record(session, t) for t in rows],
                "next_cursor": params.encode_cursor(after)}

    def _search(self, session: Session, council_id: str, query: dict[str, str], now: datetime) -> dict:
        """`?q=`: ranked, so one page (`limit`) and no cursor; the other filters are refused, not ignored."""
        words = params.search_words(query)
        hits = search.search(session, words, scope=search.Scope.council(council_id), now=now,
                             limit=params.limit(query))
        tickets = []
        for hit in hits:
            row = queries.get_ticket(session, hit.ticket.ref, council_id=council_id)
            record = search.hit_record(hit)
            tickets.append({**council_data.ticket_record(session, row), "score": record["score"],
                            "sla": record["sla"]})
        return {"council": council_id, "q": words, "tickets": tickets, "next_cursor": None}

    def _ticket(self, session: Session, council_id: str, ref: str, now: datetime) -> dict:
        ticket = queries.find_ticket(session, ref, council_id=council_id)
        if ticket is None or ticket.council_id != council_id:
            raise ApiError(404, "not_found", "no such ticket")
        return council_data.ticket_detail(session, ticket, now)

    def _sla(self, session: Session, council_id: str, query: dict[str, str], now: datetime) -> dict:
        start, end = params.instant(query, "from"), params.instant(query, "to", end_of_day=True)
        if start is not None and end is not None and start >= end:
            raise BadRequest("invalid_window", "from must be before to")
        window = start is not None or end is not None
        where = TicketFilter(open_only=not window, opened_from=start, opened_before=end,
                             after_number=params.cursor(query))
        rows, after = council_data.list_council_tickets(session, council_id, where, params.limit(query))
        return {"council": council_id, "as_of": now.isoformat(),
                "window": {"from": _iso(start), "to": _iso(end)} if window else None,
                "tickets": [council_data.ticket_sla(session, t, now) for t in rows],
                "next_cursor": params.encode_cursor(after)}


TICKETS_PARAMS = ("status", "opened_after", "limit", "cursor", "q")
SLA_PARAMS = ("from", "to", "limit", "cursor")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _route(path: str) -> tuple[str, str]:
    """("tickets" | "sla" | "ticket", ref) for an exact route, else 404 — no normalising, no guessing."""
    if path == "/api/v1/tickets":
        return "tickets", ""
    if path == "/api/v1/sla":
        return "sla", ""
    head, slash, ref = path.rpartition("/")
    if head == "/api/v1/tickets" and slash and REF.fullmatch(ref):
        return "ticket", ref
    raise ApiError(404, "not_found", "no such resource (routes: /api/v1/tickets, /api/v1/tickets/{ref}, "
                   "/api/v1/sla)")
