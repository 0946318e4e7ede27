"""follow-ups: ix_ticket_follow_up_of only over tickets that follow another up

Nearly every ticket has no `follow_up_of`. With the index over all of them, SQLite's statistics (after
ANALYZE or `PRAGMA optimize`) count the NULLs as one key as large as the table, and the planner scans the
whole ticket table for `follow_up_of IN (...)`, which every card's summary asks. A partial index holds only
the follow-ups, and both databases use it for that query.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

FOLLOWS_UP = sa.text('follow_up_of IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_follow_up_of')
        batch_op.create_index('ix_ticket_follow_up_of', ['follow_up_of'], unique=False, sqlite_where=FOLLOWS_UP,
                              postgresql_where=FOLLOWS_UP)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_follow_up_of', sqlite_where=FOLLOWS_UP, postgresql_where=FOLLOWS_UP)
        batch_op.create_index('ix_ticket_follow_up_of', ['follow_up_of'], unique=False)
