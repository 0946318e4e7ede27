"""ticket closing: when a resolved ticket closes, and where its resolution message is

Follow-ups are found by `follow_up_of` (indexed: every card names its follow-ups).
`close_due_at` is set when a ticket is resolved and cleared when it reopens or closes; the partial index
makes the worker's closing pass cost what is due, not what is open. Tickets resolved before this
revision get theirs from the worker's first pass (desk/services/closing.py, `schedule_missing`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import desk.db.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DUE = sa.text('close_due_at IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_due_at', desk.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolution_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index('ix_ticket_close_due_at', ['close_due_at'], unique=False, sqlite_where=DUE,
                              postgresql_where=DUE)
        batch_op.create_index(batch_op.f('ix_ticket_follow_up_of'), ['follow_up_of'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_follow_up_of'))
        batch_op.drop_index('ix_ticket_close_due_at', sqlite_where=DUE, postgresql_where=DUE)
        batch_op.drop_column('resolution_ts')
        batch_op.drop_column('close_due_at')
