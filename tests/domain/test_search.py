"""The pure part of search: a person's words, never query syntax; what a ticket's document holds."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.search import (
    MAX_WORDS,
    REDACTED_TITLE,
    Match,
    document,
    fts5_query,
    telling_words,
    tsquery_text,
    words,
)


def test_words_are_lower_cased_distinct_and_stripped_of_syntax() -> None:
    assert words('Refund "FAILED" refund* OR title:x NEAR(y') == ("refund", "failed", "title", "x", "near", "y")
    assert words("the refund") == ("refund",) and words("the") == ("the",)
    assert words("café_au-lait") == ("café", "au", "lait")
    assert len(words(" ".join(f"w{n}" for n in range(50)))) == MAX_WORDS
    assert words("?!* ()") == ()


def test_queries_for_each_database() -> None:
    assert fts5_query(("refund", "failed"), Match.ALL) == '"refund" "failed"'
    assert fts5_query(("refund", "failed"), Match.ANY) == '"refund" OR "failed"'
    assert tsquery_text(("refund", "failed"), Match.ANY) == "refund or failed"
    with pytest.raises(ValueError):
        fts5_query((), Match.ALL)


@given(st.text(max_size=200))
def test_any_text_makes_a_valid_fts5_query_or_none(typed: str) -> None:
    terms = words(typed)
    if not terms:
        return
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'porter unicode61 remove_diacritics 2')")
    for match in Match:
        connection.execute("SELECT * FROM t WHERE t MATCH ?", (fts5_query(terms, match),)).fetchall()


def test_the_document_leaves_out_what_was_redacted_and_keeps_a_late_edit() -> None:
    doc = document(REDACTED_TITLE, "", [{"redacted": "ab12"}, "Looking into it"], late_edit=None)
    assert (doc.title, doc.description, doc.replies) == ("", "", "Looking into it")
    assert document("T", "first words", [], late_edit="second words").description == "first words\nsecond words"
    assert document("T", "d", [], late_edit={"redacted": "x"}).description == "d"


def test_telling_words_skip_stopwords_and_single_letters() -> None:
    assert telling_words("Hi, we cannot take a card payment at the kiosk") == ("take", "card", "payment", "kiosk")
