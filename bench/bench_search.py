"""Benchmark: searching 100k tickets with the databases' own full-text index, beside a `LIKE '%word%'` scan.

desk finds tickets through `ticket_search` (SQLite FTS5, PostgreSQL `tsvector` + GIN; desk/db/search_index.py),
ranked, best 20. The baseline is what desk would do without it: scan every ticket's title and description
with `lower(…) LIKE '%word%'` and keep all that match (ranking needs them all). The baseline does less than
desk does (no public replies, which live in the event log as JSON, no ranking), so the ratio flatters it.

Tickets are clones (bench/seeding.py) given varied titles and descriptions: words drawn with a Zipf
distribution from a made-up vocabulary of 5,000 six-letter words (consonants only, so no stemmer changes
them and no word holds another). Queried: a very common word, a mid-frequency one, a rare one, two
words together, and the common word within one council. Check: for every query, the index finds exactly
the tickets the scan finds (exit status 1 if not).

    .venv/bin/python bench/bench_search.py --quick     # 10k tickets
    .venv/bin/python bench/bench_search.py             # 100k tickets
    .venv/bin/python bench/bench_search.py --database postgresql+psycopg://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

from seeding import Seeder, fresh_database
from sqlalchemy import text

from desk.db import migrate, search_index
from desk.db.engine import make_engine, unit_of_work
from desk.domain.search import Match, telling_words, words

LETTERS = "bcdfghjklmnpqrtvwxz"  # no vowels, no s: the porter and english stemmers leave these words alone
VOCABULARY = 5_000
CHUNK = 5_000


def vocabulary(rng: random.Random) -> list[str]:
    made: dict[str, None] = {}
    while len(made) < VOCABULARY:
        made.setdefault("".join(rng.choice(LETTERS) for _ in range(6)), None)
    return list(made)


def give_words(engine, total: int, vocab: list[str], rng: random.Random) -> None:
    """Every ticket a 6-word title and a 30-word description, Zipf-distributed over the vocabulary."""
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT id FROM ticket ORDER BY id"))]
        for start in range(0, len(ids), CHUNK):
            rows = []
            for ticket_id in ids[start:start + CHUNK]:
                drawn = rng.choices(vocab, weights, k=36)
                rows.append({"id": ticket_id, "title": " ".join(drawn[:6]), "description": " ".join(drawn[6:])})
            connection.execute(text("UPDATE ticket SET title = :title, description = :description WHERE id = :id"),
                               rows)
        assert len(ids) == total, (len(ids), total)


def desk_search(engine, query: str, council_id: str | None) -> Callable[[], list[int]]:
    def run() -> list[int]:
        with unit_of_work(engine) as session:
            found = search_index.find(session, words(query), Match.ALL, limit=20, council_id=council_id)
            return [f.ticket_id for f in found]
    return run


def desk_all(engine, query: str, council_id: str | None) -> set[int]:
    with unit_of_work(engine) as session:
        return {f.ticket_id for f in search_index.find(session, words(query), Match.ALL, limit=10_000_000,
                                                       council_id=council_id)}


def like_scan(engine, query: str, council_id: str | None) -> Callable[[], list[int]]:
    clauses = " AND ".join(f"(lower(title) LIKE :w{i} OR lower(description) LIKE :w{i})"
                           for i in range(len(query.split())))
    binds = {f"w{i}": f"%{w}%" for i, w in enumerate(query.split())}
    if council_id:
        clauses += " AND council_id = :council"
        binds["council"] = council_id

    def run() -> list[int]:
        with engine.connect() as connection:
            return [r[0] for r in connection.execute(text(f"SELECT id FROM ticket WHERE {clauses}"), binds)]
    return run


def timed(run: Callable[[], list[int]], repeats: int) -> tuple[list[float], int]:
    seconds, found = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        found = len(run())
        seconds.append(time.perf_counter() - began)
    return seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k tickets")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database", help="a server URL (a fresh database is created on it) or a new SQLite file")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    total = 10_000 if args.quick else args.tickets
    rng = random.Random(17)
    vocab = vocabulary(rng)
    with fresh_database(args.database) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        dialect = engine.dialect.name
        print(f"seeding {total:,} tickets ({dialect})", file=sys.stderr)
        seeder = Seeder.start(engine)
        seeder.grow(total)
        give_words(engine, total, vocab, rng)
        began = time.perf_counter()
        with engine.begin() as connection:
            search_index.rebuild(connection)
            connection.execute(text("ANALYZE"))
        built = time.perf_counter() - began
        council = seeder.templates[0].ticket["council_id"]
        queries = [("a very common word", vocab[0], None), ("a mid-frequency word", vocab[60], None),
                   ("a rare word", vocab[3000], None), ("two words, both", f"{vocab[5]} {vocab[40]}", None),
                   (f"a very common word, {council} only", vocab[0], council)]
        name = {"sqlite": "SQLite FTS5", "postgresql": "PostgreSQL tsvector + GIN"}.get(dialect, dialect)
        print(f"### Search: {total:,} tickets, {name}, beside a `LIKE '%word%'` scan\n")
        print(f"Python {platform.python_version()}, {platform.machine()}; {args.repeats} searches each; "
              f"milliseconds, median (min-max). Index built for {total:,} tickets in {built:,.1f} s "
              "(migration 0013's rebuild).\n")
        print("| query | matching tickets | desk (index, ranked, best 20) | baseline (`LIKE` scan, all matches) "
              "| ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
        failed = False
        for label, query, scope in queries:
            fast, _ = timed(desk_search(engine, query, scope), args.repeats)
            slow, matching = timed(like_scan(engine, query, scope), args.repeats)
            if desk_all(engine, query, scope) != set(like_scan(engine, query, scope)()):
                print(f"FAILED: the index and the scan disagree on {query!r}", file=sys.stderr)
                failed = True
            print(f"| {label} (`{query}`) | {matching:,} | {_spread(fast)} | {_spread(slow)} | "
                  f"{statistics.median(slow) / statistics.median(fast):,.1f}× |")
        print()
        print(_extras(engine, total, args.repeats))
        engine.dispose()
    if failed:
        sys.exit(1)


def _extras(engine, total: int, repeats: int) -> str:
    """What else search costs: the triage card's "Similar tickets" query, and the merge retention runs
    after removing words (FTS5 `optimize`; nothing on PostgreSQL)."""
    middle = total // 2
    with engine.connect() as connection:
        title, description, council, category = connection.execute(text(
            "SELECT title, description, council_id, category FROM ticket WHERE id = :id"), {"id": middle}).one()
    terms = telling_words(f"{title}\n{description}")

    def similar() -> list[int]:
        with unit_of_work(engine) as session:
            return [f.ticket_id for f in search_index.find(session, terms, Match.ANY, limit=3, before_id=middle,
                                                          council_or_category=(council, category))]

    near, _ = timed(similar, repeats)
    lines = [f"- \"Similar tickets\" for ticket {middle:,} (any of its first {len(terms)} telling words, its "
             f"council or category, opened before it, best 3): {_spread(near)} ms"]
    if engine.dialect.name == "sqlite":
        def merge() -> list[int]:
            with unit_of_work(engine) as session:
                search_index.compact(session)
            return []
        merged, _ = timed(merge, 1)
        lines.append(f"- the merge after a retention batch (`compact`: FTS5 `optimize`) at {total:,} tickets: "
                     f"{_spread(merged)} ms")
    return "\n".join(lines)


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):,.1f} ({min(ms):,.1f}-{max(ms):,.1f})"


if __name__ == "__main__":
    main()
