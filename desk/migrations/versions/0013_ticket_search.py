"""ticket search: the databases' own full-text index of tickets, built for the tickets already there

SQLite: an FTS5 table `ticket_search` (rowid = ticket id). PostgreSQL: `ticket_search(ticket_id,
document tsvector)` with a GIN index. desk/db/search_index.py reads and writes them; see it for why they are
not SQLModel tables.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 02:00:00
"""
from alembic import op

from desk.db import search_index

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute("CREATE TABLE ticket_search (ticket_id INTEGER PRIMARY KEY REFERENCES ticket (id) "
                   "ON DELETE CASCADE, document TSVECTOR NOT NULL)")
        op.execute("CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (document)")
    else:
        op.execute("CREATE VIRTUAL TABLE ticket_search USING fts5(title, description, replies, "
                   "tokenize = 'porter unicode61 remove_diacritics 2')")
    search_index.rebuild(connection)


def downgrade() -> None:
    op.execute("DROP TABLE ticket_search")
