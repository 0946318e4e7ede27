"""The council API over real HTTP: desk's whole web app (DeskWsgi, which hands `/api/` to the API) on a
local port, a real database, tokens made by the real service. Requests go out through `http.client`,
which sends a path byte for byte, so the path tricks below reach desk exactly as an attacker typed them.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import Engine

from desk.config import Settings
from desk.db.engine import unit_of_work
from desk.db.tables import ApiTokenRow
from desk.sandbox.slack_api import SlackStandIn
from desk.services import api_tokens
from desk.wiring import Wiring
from tests.services.test_export import FIFE_TITLE, INTERNAL_NOTE, MONDAY, seed_history

NOW = MONDAY + timedelta(days=3)


class FixedClock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self):
        return self.at


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@dataclass
class Response:
    status: int
    body: dict
    headers: dict[str, str]
    raw: bytes


@dataclass
class Api:
    port: int
    engine: Engine
    tokens: dict[str, str]  # council -> secret

    def request(self, path: str, token: str | None = None, *, method: str = "GET",
                authorization: str | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        return Response(response.status, json.loads(raw) if raw else {}, dict(response.getheaders()), raw)

    def get(self, path: str, council: str = "cherwell") -> Response:
        return self.request(path, self.tokens[council])


@pytest.fixture
def api(synced: Engine, database_url: str) -> Iterator[Api]:
    seed_history(synced)
    with unit_of_work(synced) as session:
        tokens = {c: api_tokens.create(session, council_id=c, name="test", at=MONDAY).secret
                  for c in ("cherwell", "fife")}
    with SlackStandIn() as slack:
        settings = Settings.from_environ({
            "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
            "DESK_DATABASE_URL": database_url, "DESK_SLACK_API_URL": slack.api_url})
        wiring = Wiring(settings, clock=FixedClock())
        wiring.__dict__["engine"] = synced
        server = make_server("127.0.0.1", 0, wiring.wsgi_app(), server_class=_Server, handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Api(server.server_address[1], synced, tokens)
        finally:
            server.shutdown()
            wiring.listener_executor.shutdown(wait=True)


# -- who is asking ----------------------------------------------------------------------------------------

def test_no_token_wrong_token_or_other_scheme_is_401_in_json(api: Api) -> None:
    missing = api.request("/api/v1/tickets")
    assert (missing.status, missing.body["error"]) == (401, "missing_token")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.headers["Content-Type"].startswith("application/json")
    for authorization in ("Bearer desk_not-a-real-token", "Bearer ", "Basic Y2hlcndlbGw6cGFzcw==",
                          api.tokens["cherwell"], f"Bearer {api.tokens['cherwell']}x",
                          f"Bearer {api.tokens['cherwell'][:-1]}"):
        response = api.request("/api/v1/tickets", authorization=authorization)
        assert response.status == 401 and "CHW" not in response.raw.decode(), authorization


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    assert api.get("/api/v1/tickets").status == 200
    with unit_of_work(api.engine) as session:
        token = session.get(ApiTokenRow, 1)
        assert token.council_id == "cherwell"
        assert token.last_used_at == NOW  # noted on use, with the wiring's clock
        api_tokens.revoke(session, token_id=1, at=NOW)
    assert api.get("/api/v1/tickets").status == 401


def test_the_scheme_is_case_insensitive(api: Api) -> None:
    assert api.request("/api/v1/tickets", authorization=f"bearer {api.tokens['cherwell']}").status == 200


# -- what a council sees -------------------------------------------------------------------------------------

def test_tickets_are_the_tokens_councils_only(api: Api) -> None:
    cherwell = api.get("/api/v1/tickets")
    assert cherwell.status == 200 and cherwell.headers["Cache-Control"] == "no-store"
    assert [t["ref"] for t in cherwell.body["tickets"]] == ["CHW-1", "CHW-2"]
    assert cherwell.body["council"] == "cherwell" and cherwell.body["next_cursor"] is None
    assert "FIFE" not in cherwell.raw.decode()
    fife = api.get("/api/v1/tickets", "fife")
    assert [t["ref"] for t in fife.body["tickets"]] == ["FIFE-1"] and "CHW" not in fife.raw.decode()


def test_filters_and_pages(api: Api) -> None:
    assert [t["ref"] for t in api.get("/api/v1/tickets?status=closed").body["tickets"]] == ["CHW-1"]
    later = api.get("/api/v1/tickets?opened_after=2026-01-05T09:30:00Z").body["tickets"]
    assert [t["ref"] for t in later] == ["CHW-2"]
    offset = api.get("/api/v1/tickets?opened_after=2026-01-05T09:30:00%2B01:00").body["tickets"]
    assert [t["ref"] for t in offset] == ["CHW-1", "CHW-2"]  # 08:30 UTC
    first = api.get("/api/v1/tickets?limit=1").body
    assert [t["ref"] for t in first["tickets"]] == ["CHW-1"] and first["next_cursor"]
    second = api.get(f"/api/v1/tickets?limit=1&cursor={first['next_cursor']}").body
    assert [t["ref"] for t in second["tickets"]] == ["CHW-2"] and second["next_cursor"] is None


BAD_QUERIES = [
    ("council=fife", "council_not_allowed"),
    ("council=cherwell", "council_not_allowed"),
    ("status=open&council=fife", "council_not_allowed"),
    ("limit=0", "invalid_limit"), ("limit=201", "invalid_limit"), ("limit=ten", "invalid_limit"),
    ("limit=%D9%A3", "invalid_limit"),  # an Arabic-Indic three: a digit to str.isdigit, not to us
    ("cursor=bm9wZQ", "invalid_cursor"), ("cursor=../../", "invalid_cursor"),
    ("status=everything", "invalid_status"),
    ("opened_after=yesterday", "invalid_instant"), ("opened_after=2026-01-05T09:00:00", "invalid_instant"),
    ("opened_after=2026-01-05T09:00:00+00:00", "invalid_instant"),  # an unencoded + reads as a space
    ("tenant=fife", "unknown_parameter"), ("status=new&status=closed", "repeated_parameter"),
    ("&&&", "invalid_query"),
]


def test_bad_parameters_are_400_and_name_the_problem(api: Api) -> None:
    """One server for every case (a table, not a parametrisation: each server costs a second)."""
    wrong = []
    for query, error in BAD_QUERIES:
        response = api.get(f"/api/v1/tickets?{query}")
        if (response.status, response.body.get("error")) != (400, error) or not response.body.get("message") \
                or "FIFE" in response.raw.decode():
            wrong.append((query, response.status, response.body))
    assert wrong == []


def test_one_ticket_with_its_history_and_sla_as_of_now(api: Api) -> None:
    ticket = api.get("/api/v1/tickets/CHW-1").body
    assert ticket["ref"] == "CHW-1" and ticket["status"] == "closed"
    assert [e["type"] for e in ticket["events"]] == [
        "opened", "replied", "status", "status", "commented", "status", "resolved", "closed"]
    assert INTERNAL_NOTE not in json.dumps(ticket)  # internal notes never reach the council
    assert ticket["sla"]["respond"] == {"due_at": "2026-01-05T14:00:00+00:00",
                                        "met_at": "2026-01-05T09:30:00+00:00", "breached": False,
                                        "breached_at": None}
    assert ticket["sla"]["resolve"][0]["paused_seconds"] == 3600
    instants = re.findall(r'"(\d{4}-\d{2}-\d{2}T[^"]*)"', json.dumps(ticket))
    assert instants and all(re.search(r"[+-]\d{2}:\d{2}$", at) for at in instants)
    assert api.get("/api/v1/tickets/chw-1").body["ref"] == "CHW-1"  # the council's own ref, any case


def test_sla_for_open_tickets_or_a_window(api: Api) -> None:
    open_now = api.get("/api/v1/sla").body
    assert open_now["as_of"] == NOW.isoformat() and open_now["window"] is None
    assert [t["ref"] for t in open_now["tickets"]] == ["CHW-2"]
    assert open_now["tickets"][0]["sla"]["respond"]["breached_at"] == "2026-01-06T11:00:00+00:00"
    day = api.get("/api/v1/sla?from=2026-01-05&to=2026-01-05").body
    assert [t["ref"] for t in day["tickets"]] == ["CHW-1", "CHW-2"]
    assert day["window"] == {"from": "2026-01-05T00:00:00+00:00", "to": "2026-01-06T00:00:00+00:00"}
    assert api.get("/api/v1/sla?from=2026-01-06").body["tickets"] == []
    assert api.get("/api/v1/sla?from=2026-01-06&to=2026-01-05").body["error"] == "invalid_window"
    assert api.get("/api/v1/sla?council=fife").body["error"] == "council_not_allowed"
    assert [t["ref"] for t in api.get("/api/v1/sla", "fife").body["tickets"]] == ["FIFE-1"]


# -- an attacker holding Cherwell's token -------------------------------------------------------------

def test_another_councils_ref_is_not_found_exactly_like_a_missing_one(api: Api) -> None:
    theirs, missing = api.get("/api/v1/tickets/FIFE-1"), api.get("/api/v1/tickets/CHW-999")
    assert theirs.status == missing.status == 404
    assert theirs.raw == missing.raw and theirs.headers["Content-Length"] == missing.headers["Content-Length"]
    assert api.get("/api/v1/tickets/FIFE-1", "fife").body["title"] == FIFE_TITLE  # it exists, for its owner


ATTACKS = [
    "/api/v1/tickets/FIFE-1", "/api/v1/tickets/fife-1", "/api/v1/tickets/Fife-1",
    "/api/v1/tickets/../tickets/FIFE-1", "/api/v1/tickets/%2e%2e/tickets/FIFE-1", "/api/v1/tickets/./FIFE-1",
    "/api/v1/tickets%2FFIFE-1", "/api/v1/tickets/CHW-1%2F..%2F..%2Ftickets%2FFIFE-1",
    "/api/v1/tickets/FIFE-1/", "/api/v1/tickets/FIFE-1%00", "/api/v1/tickets/CHW-1%00FIFE-1",
    "/api/v1/tickets/FIFE-1%0a", "/api/v1/tickets/FIFE-1;x", "/api/v1/tickets/FIFE-1.json",
    "/api/v1/tickets/FIFE-01", "/api/v1/tickets/%46IFE-1", "/api/v1/tickets/FIFE-1%20",
    "/api/v1/tickets/%EF%BC%A6IFE-1",  # a fullwidth F
    "/api/v1//tickets/FIFE-1", "//api/v1/tickets/FIFE-1", "/api/v1/tickets/" + "FIFE-1" * 2000,
    "/api/v1/tickets/FIFE-" + "1" * 40, "/api/v1/tickets/FIFE-1?council=fife", "/api/v1/tickets?council=fife",
    "/api/v1/sla?council=fife", "/api/v1/tickets/CHW-1?council=fife", "/api/v2/tickets/FIFE-1",
    "/api/v1/FIFE-1",
    "/api/v1/tickets/*", "/api/v1/tickets/%25", "/api/v1/tickets/FIFE-1%23", "/API/v1/tickets/FIFE-1",
]


def test_path_tricks_never_reach_another_council(api: Api) -> None:
    leaks = []
    for path in ATTACKS:
        response = api.get(path)
        text = response.raw.decode("utf-8", "replace")
        if response.status not in (400, 404) or "fife" in text.lower() or FIFE_TITLE in text:
            leaks.append((path, response.status, text[:200]))
    assert leaks == []


def test_the_api_is_read_only(api: Api) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for token in (api.tokens["cherwell"], None):
            response = api.request("/api/v1/tickets/CHW-1", token, method=method)
            assert (response.status, response.body["error"]) == (405, "method_not_allowed"), method
            assert response.headers["Allow"] == "GET"


def test_the_rest_of_the_web_app_is_untouched(api: Api) -> None:
    assert api.request("/healthz").status == 200
    assert api.request("/apix/v1/tickets", api.tokens["cherwell"]).body == {"ok": False, "error": "not_found"}
    assert api.get("/api/").body["error"] == "not_found"
