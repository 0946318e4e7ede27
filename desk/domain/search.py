"""Full-text search, the pure part: what a ticket's searchable document is, and what a person's words mean.

A ticket is found by its **title**, its **description** (with the council's latest words when it edited
its request after triage) and the **public replies** support wrote in the council thread. Never by internal
notes, for anyone: one document per ticket, the same for a council and for support, so what a council can
find is exactly what it could already read in its own thread, and no filter stands between a note and a
council. (Support reads notes on the card and with `desk tickets show`; it finds tickets by what the council
asked and what it was told.) Words retention or an erasure removed are not in it: a redacted title is empty,
and a redacted reply is a marker, not text.

People's words are never query syntax: they are split into words (letters and digits), lower-cased, and
each is quoted for the database (`fts5_query`) or handed to a parser that cannot fail
(`plainto_tsquery` or `websearch_to_tsquery` on PostgreSQL). So `"`, `*`, `NEAR(`, `-`, `:` or `OR` in a search are just text,
and an empty search is refused by the caller before any query runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

REDACTED_TITLE = "[redacted]"
"""The title retention and an erasure leave on a ticket whose request they removed (not searchable)."""

WORD = re.compile(r"[^\W_]+")  # letters and digits in any script; `_` and punctuation separate words
MAX_WORDS = 12
MAX_WORD_LENGTH = 60
SIMILAR_WORDS = 8  # "Similar tickets" looks for the first few telling words of a title and description
STOPWORDS = frozenset("""a an and are as at be been but by can cannot could did do does for from had has have
hi hello i if in into is it its me my no not of on or our please so than that the their them then there these
they this to too up us was we were what when where which who why will with would you your thanks thank""".split())


class Match(StrEnum):
    """How a search combines its words."""

    ALL = "all"  # a person's search: every word must appear (ranked by how well)
    ANY = "any"  # "Similar tickets": any telling word may appear (ranked, so shared words rise)


@dataclass(frozen=True)
class Document:
    """A ticket's searchable text, in fields of falling weight."""

    title: str
    description: str
    replies: str


def document(title: str, description: str, replies: Iterable[object], late_edit: object = None) -> Document:
    """What the index holds for a ticket. Values that are not text (a `{"redacted": …}` marker left by
    retention) are not words anyone wrote any more, and are left out."""
    extra = [late_edit] if isinstance(late_edit, str) and late_edit.strip() else []
    return Document(
        title="" if title == REDACTED_TITLE else title,
        description="\n".join([description, *extra]).strip(),
        replies="\n".join(r for r in replies if isinstance(r, str)),
    )


def words(text: str) -> tuple[str, ...]:
    """A person's search as words: lower-cased, in order, each once, at most `MAX_WORDS`. Stopwords are
    dropped when other words remain (PostgreSQL ignores them anyway; FTS5 would demand them), so "the
    refund" finds what "refund" finds on either database."""
    found = _distinct(text)
    telling = tuple(w for w in found if w not in STOPWORDS)
    return (telling or found)[:MAX_WORDS]


def telling_words(text: str) -> tuple[str, ...]:
    """The words of a ticket worth matching others on: no stopwords, no single letters."""
    return tuple(w for w in _distinct(text) if len(w) > 1 and w not in STOPWORDS)[:SIMILAR_WORDS]


def _distinct(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for found in WORD.findall(text or ""):
        seen.setdefault(found.lower()[:MAX_WORD_LENGTH], None)
    return tuple(seen)


def fts5_query(terms: tuple[str, ...], match: Match) -> str:
    """An FTS5 MATCH expression: each word a quoted string (FTS5 doubles `"` inside one), so no word is
    ever an operator, a column filter or a syntax error."""
    if not terms:
        raise ValueError("no words to search for")
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return (" " if match is Match.ALL else " OR ").join(quoted)


def tsquery_text(terms: tuple[str, ...], match: Match) -> str:
    """Text for PostgreSQL's `plainto_tsquery` (all the words: no operators at all) or
    `websearch_to_tsquery` (any: the words joined by `or`); neither raises on any input."""
    if not terms:
        raise ValueError("no words to search for")
    return (" " if match is Match.ALL else " or ").join(terms)
