"""`GET /api/v1/tickets?q=WORDS`: the token's council's tickets found by their words, over real HTTP."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.test_api import Api, api  # noqa: F401  (the fixture: desk's web app on a port, seeded)


def test_q_finds_the_tokens_councils_tickets_only_ranked_with_status_and_sla(api: Api) -> None:  # noqa: F811
    found = api.get("/api/v1/tickets?q=refund")
    assert found.status == 200
    assert [t["ref"] for t in found.body["tickets"]] == ["CHW-1"]
    hit = found.body["tickets"][0]
    assert (hit["status"], found.body["q"], found.body["next_cursor"]) == ("closed", "refund", None)
    assert hit["sla"]["respond"]["stopped_at"] and hit["sla"]["respond"]["breached"] is False
    assert hit["score"] > 0 and "description" in hit  # the list's record, with its score and SLA state
    assert api.get("/api/v1/tickets?q=looking+into").body["tickets"][0]["ref"] == "CHW-1"  # a public reply
    # Fife's words with Cherwell's token: nothing, exactly as for words nobody wrote
    assert api.get("/api/v1/tickets?q=direct+debit").body["tickets"] == []
    assert [t["ref"] for t in api.get("/api/v1/tickets?q=direct+debit", "fife").body["tickets"]] == ["FIFE-1"]
    assert api.get("/api/v1/tickets?q=refund", "fife").body["tickets"] == []


def test_q_never_finds_internal_notes(api: Api) -> None:  # noqa: F811
    for words in ("merchant", "PSP+merchant+config"):
        response = api.get(f"/api/v1/tickets?q={words}")
        assert response.status == 200 and response.body["tickets"] == []


def test_any_q_is_safe_and_bad_combinations_are_400(api: Api) -> None:  # noqa: F811
    for words in ('"', "NEAR(refund", "refund*", "title:refund", "refund OR debit", "-x", "'; DROP TABLE ticket"):
        response = api.get(f"/api/v1/tickets?q={quote(words)}")
        assert response.status in (200, 400) and response.status != 500, words
        if response.status == 400:
            assert response.body["error"] == "invalid_q"
    assert [t["ref"] for t in api.get(f"/api/v1/tickets?q={quote('refund*')}").body["tickets"]] == ["CHW-1"]
    empty = api.get("/api/v1/tickets?q=")
    assert (empty.status, empty.body["error"]) == (400, "invalid_q")
    combined = api.get("/api/v1/tickets?q=refund&status=closed")
    assert combined.status == 400 and "status" in combined.body["message"]
    assert api.get("/api/v1/tickets?q=refund&limit=1").status == 200
    assert api.get("/api/v1/tickets?q=refund&council=fife").body["error"] == "council_not_allowed"
    assert api.get("/api/v1/tickets?q=refund&q=debit").body["error"] == "repeated_parameter"
