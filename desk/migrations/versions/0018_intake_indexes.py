"""intake indexes: no index a new ticket writes for nothing

Every index on a table is a b-tree an INSERT writes, and on SQLite a page each in the write-ahead log at
commit (issue 16: a ticket wrote about 30). Two were the leading column of a unique constraint's index and
answered nothing it does not: `ix_ticket_council_id` (UNIQUE (council_id, number)) and
`ix_sla_clock_ticket_id` (UNIQUE (ticket_id, metric, cycle)); both databases look up by a leading column
through the wider index. Two are only ever looked up by a value, never as NULL, and a new ticket has
neither: `ix_ticket_assignee` (an engineer's tickets, erasure; the unassigned queue is found among the open
tickets by status) and `ix_ticket_card_ts` (the ticket of a triage card). They become partial, over the
rows that have one, which `assignee = ?` and `card_ts = ?` use on both databases.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

PARTIAL = ('assignee', 'card_ts')  # ticket columns whose index holds only the rows that have a value


def _not_null(column: str) -> dict:
    where = sa.text(f'{column} IS NOT NULL')
    return {'sqlite_where': where, 'postgresql_where': where}


def upgrade() -> None:
    op.drop_index('ix_ticket_council_id', table_name='ticket')
    op.drop_index('ix_sla_clock_ticket_id', table_name='sla_clock')
    for column in PARTIAL:
        op.drop_index(f'ix_ticket_{column}', table_name='ticket')
        op.create_index(f'ix_ticket_{column}', 'ticket', [column], unique=False, **_not_null(column))


def downgrade() -> None:
    for column in PARTIAL:
        op.drop_index(f'ix_ticket_{column}', table_name='ticket', **_not_null(column))
        op.create_index(f'ix_ticket_{column}', 'ticket', [column], unique=False)
    op.create_index('ix_sla_clock_ticket_id', 'sla_clock', ['ticket_id'], unique=False)
    op.create_index('ix_ticket_council_id', 'ticket', ['council_id'], unique=False)
