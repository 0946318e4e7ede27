"""`desk tickets search WORDS [--council ID] [--json]`: the real entry point against a real database."""

from __future__ import annotations

import json

from tests.cli.test_cli import desk, ready  # noqa: F401  (fixtures)


def open_(ready, council: str, title: str, description: str = "") -> str:  # noqa: F811
    result = ready("tickets", "open", "--council", council, "--title", title, "--description", description,
                   "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["ref"]


def test_search_finds_every_councils_tickets_or_one_councils_ranked_with_sla(ready) -> None:  # noqa: F811
    open_(ready, "cherwell", "Card payments failing at the kiosk")
    open_(ready, "fife", "Direct debit file rejected", "The card payments batch is fine")
    open_(ready, "cherwell", "Report for the audit committee")
    everyone = ready("tickets", "search", "card", "payments", "--json")
    assert everyone.code == 0, everyone.err
    hits = json.loads(everyone.out)
    assert [h["ref"] for h in hits] == ["CHW-1", "FIFE-1"]  # the title match first
    assert hits[0]["score"] > hits[1]["score"]
    first = hits[0]
    assert (first["council"], first["status"]) == ("cherwell", "new")
    assert first["sla"]["respond"]["due_at"] and first["sla"]["respond"]["breached"] is False
    assert first["sla"]["next_due_at"] == first["sla"]["respond"]["due_at"]
    fife = json.loads(ready("tickets", "search", "card payments", "--council", "fife", "--json").out)
    assert [h["ref"] for h in fife] == ["FIFE-1"]
    text = ready("tickets", "search", "audit")
    assert text.code == 0 and "CHW-2" in text.out and "CHW-1" not in text.out and "due" in text.out
    assert "no tickets found" in ready("tickets", "search", "nothing-like-this").out


def test_search_refuses_no_words_and_an_unknown_council_clearly(ready) -> None:  # noqa: F811
    nothing = ready("tickets", "search", '"*"')
    assert nothing.code == 1 and "give some words to search for" in nothing.err
    unknown = ready("tickets", "search", "card", "--council", "atlantis")
    assert unknown.code == 1 and "atlantis" in unknown.err
    hostile = ready("tickets", "search", 'NEAR("card', "OR", "title:x", "--json")
    assert hostile.code == 0 and json.loads(hostile.out) == []
