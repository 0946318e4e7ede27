"""The full-text index of tickets, in each database's own engine, written in the transaction that
changes what it indexes (desk/services/search.py says when).

- **SQLite**: an FTS5 table `ticket_search(title, description, replies)` whose rowid is the ticket's id
  (porter stemming, diacritics folded), ranked by `bm25` with the title weighing most.
- **PostgreSQL**: a table `ticket_search(ticket_id, document tsvector)` with a GIN index, the fields
  weighted A/B/C (`english` configuration), ranked by `ts_rank`: cheaper than `ts_rank_cd` (230 against
  580 ms for the card's "any of 8 words" query at 100k tickets), which also scored many of its matches alike.

Neither is a SQLModel table (an FTS5 virtual table and a `tsvector` have no portable SQLAlchemy form):
migration 0013 creates them, `SEARCH_OBJECTS` names them for tests/db/test_migrations.py, and this module is
the only code that reads or writes them. Every query joins `ticket` and filters there, so a council scope
is the same `WHERE council_id = …` the rest of desk uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Integer, Text, bindparam, column, func, literal_column, text
from sqlalchemy import table as table_
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from desk.db.engine import connection_of
from desk.domain.search import REDACTED_TITLE, Document, Match, fts5_query, tsquery_text

SEARCH_TABLE = "ticket_search"
GIN_INDEX = "ix_ticket_search_document"
CONFIG = "english"
SQLITE_WEIGHTS = "10.0, 4.0, 1.0"  # bm25 per column: title, description, replies


def owns(name: str | None) -> bool:
    """Is this schema object the search index's (FTS5 also makes `ticket_search_data`, `_idx`, …)?"""
    return bool(name) and (name == SEARCH_TABLE or str(name).startswith(SEARCH_TABLE + "_")
                           or name == GIN_INDEX)


@dataclass(frozen=True)
class Found:
    ticket_id: int
    score: float  # higher is a better match (comparable only within one search)


def _dialect(session: Session | Connection) -> str:
    return session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name


def postgresql_upsert():
    """PostgreSQL's INSERT of a ticket's document (replacing one there is), as a Core statement taking
    :search_id, :search_title, :search_description and :search_replies."""
    def weighted(field: str, weight: str):
        return func.setweight(func.to_tsvector(literal_column(f"'{CONFIG}'"), bindparam(f"search_{field}", type_=Text)),
                              literal_column(f"'{weight}'"))

    table = table_(SEARCH_TABLE, column("ticket_id"), column("document"))
    document = weighted("title", "A").op("||")(weighted("description", "B")).op("||")(weighted("replies", "C"))
    statement = postgresql.insert(table).values(ticket_id=bindparam("search_id", type_=Integer), document=document)
    return statement.on_conflict_do_update(index_elements=["ticket_id"], set_={"document": statement.excluded.document})


# Built once (a statement is parsed, or built, and given a cache key, each time it is made).
_UPSERT_POSTGRESQL = postgresql_upsert()
_DELETE_SQLITE = text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :search_id")
# a document where there is none: a new ticket's, or after _DELETE_SQLITE
INSERT_NEW_SQLITE = text(f"INSERT INTO {SEARCH_TABLE} (rowid, title, description, replies) "
                         "VALUES (:search_id, :search_title, :search_description, :search_replies)")


def write(session: Session, ticket_id: int, doc: Document, *, new: bool = False) -> None:
    """Put (or replace) one ticket's document; `new`: a ticket opened in this transaction, which has none
    to replace (tickets are never deleted, so its id was never indexed before)."""
    connection = connection_of(session)
    values = values_of(ticket_id, doc)
    if connection.dialect.name == "postgresql":
        connection.execute(_UPSERT_POSTGRESQL, values)
        return
    if not new:
        connection.execute(_DELETE_SQLITE, {"search_id": ticket_id})
    connection.execute(INSERT_NEW_SQLITE, values)


def values_of(ticket_id: int, doc: Document) -> dict[str, object]:
    """The parameters of the statements that write a ticket's document."""
    return {"search_id": ticket_id, "search_title": doc.title, "search_description": doc.description,
            "search_replies": doc.replies}


def compact(session: Session) -> None:
    """After words were removed: FTS5 keeps a deleted row's terms in its older segments until they are
    merged, so merge them all now (the redacted words leave the file's index pages too). PostgreSQL
    rewrites the row; its old version goes with the next vacuum, like any row retention changes."""
    if _dialect(session) == "sqlite":
        session.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')"))


def find(session: Session, terms: tuple[str, ...], match: Match, *, limit: int, council_id: str | None = None,
         council_or_category: tuple[str, str | None] | None = None, before_id: int | None = None) -> list[Found]:
    """Tickets matching `terms`, best first. `council_id` scopes to one council (a council's search);
    `council_or_category` to tickets of that council or that category, and `before_id` to tickets opened
    before that one ("Similar tickets")."""
    where, binds = [], {"limit": limit}
    if council_id is not None:
        where.append("t.council_id = :council_id")
        binds["council_id"] = council_id
    if council_or_category is not None:
        council, category = council_or_category
        where.append("(t.council_id = :near_council OR t.category = :near_category)")
        binds |= {"near_council": council, "near_category": category}
    if before_id is not None:
        where.append("t.id < :before_id")
        binds["before_id"] = before_id
    extra = "".join(f" AND {clause}" for clause in where)
    if _dialect(session) == "postgresql":
        parse = "plainto_tsquery" if match is Match.ALL else "websearch_to_tsquery"
        binds["q"] = tsquery_text(terms, match)
        sql = (f"SELECT t.id, ts_rank(s.document, q.query) AS score FROM {SEARCH_TABLE} s "
               f"JOIN ticket t ON t.id = s.ticket_id CROSS JOIN {parse}('{CONFIG}', :q) AS q(query) "
               f"WHERE s.document @@ q.query{extra} ORDER BY score DESC, t.id DESC LIMIT :limit")
    else:
        binds["q"] = fts5_query(terms, match)
        sql = (f"SELECT t.id, -bm25({SEARCH_TABLE}, {SQLITE_WEIGHTS}) AS score FROM {SEARCH_TABLE} "
               f"JOIN ticket t ON t.id = {SEARCH_TABLE}.rowid "
               f"WHERE {SEARCH_TABLE} MATCH :q{extra} ORDER BY score DESC, t.id DESC LIMIT :limit")
    return [Found(int(row[0]), float(row[1])) for row in session.execute(text(sql), binds).all()]


# The same document `desk.domain.search.document` makes, in SQL: title (unless redacted); description and
# the latest edit's words when they came after triage; the public replies that are still text.
_SQLITE_REBUILD = f"""
INSERT INTO {SEARCH_TABLE} (rowid, title, description, replies)
SELECT t.id,
  CASE WHEN t.title = :redacted THEN '' ELSE t.title END,
  t.description || coalesce((SELECT char(10) || json_extract(e.data, '$.text') FROM ticket_event e
      WHERE e.ticket_id = t.id AND e.type = 'edited' AND json_extract(e.data, '$.applied') = 0
        AND json_type(e.data, '$.text') = 'text' ORDER BY e.seq DESC LIMIT 1), ''),
  coalesce((SELECT group_concat(json_extract(e.data, '$.text'), char(10)) FROM ticket_event e
      WHERE e.ticket_id = t.id AND e.type = 'replied' AND json_type(e.data, '$.text') = 'text'), '')
FROM ticket t"""

_POSTGRES_REBUILD = f"""
INSERT INTO {SEARCH_TABLE} (ticket_id, document)
SELECT t.id,
  setweight(to_tsvector('{CONFIG}', CASE WHEN t.title = :redacted THEN '' ELSE t.title END), 'A')
  || setweight(to_tsvector('{CONFIG}', t.description || coalesce((SELECT E'\\n' || (e.data::json ->> 'text')
      FROM ticket_event e WHERE e.ticket_id = t.id AND e.type = 'edited' AND (e.data::json ->> 'applied') = 'false'
        AND json_typeof(e.data::json -> 'text') = 'string' ORDER BY e.seq DESC LIMIT 1), '')), 'B')
  || setweight(to_tsvector('{CONFIG}', coalesce((SELECT string_agg(e.data::json ->> 'text', E'\\n')
      FROM ticket_event e WHERE e.ticket_id = t.id AND e.type = 'replied'
        AND json_typeof(e.data::json -> 'text') = 'string'), '')), 'C')
FROM ticket t"""


def rebuild(connection: Connection) -> None:
    """Index every ticket from scratch (migration 0013 builds the index for tickets already there)."""
    connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
    sql = _POSTGRES_REBUILD if connection.dialect.name == "postgresql" else _SQLITE_REBUILD
    connection.execute(text(sql), {"redacted": REDACTED_TITLE})
