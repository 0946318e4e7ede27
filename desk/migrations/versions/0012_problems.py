"""problems: one fault behind many councils' tickets (issue 14)

A problem (support's record), the tickets linked to it, and its own hash-chained event log with the
chain's head (one row, created on first use). The problem's message in the triage channel is
`problem.triage_channel` / `problem.triage_ts`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 01:49:31
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import desk.db.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('problem_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('problem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('match', sa.JSON(), nullable=False),
    sa.Column('triage_rule', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('from_ticket_id', sa.Integer(), nullable=True),
    sa.Column('opened_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', desk.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('triage_channel', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('triage_ts', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['from_ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_status'), ['status'], unique=False)

    op.create_table('problem_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash_version', sa.Integer(), nullable=False),
    sa.Column('text_salt', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('problem_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_event_problem_id'), ['problem_id'], unique=False)

    op.create_table('problem_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('how', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('linked_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unlinked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('unlinked_at', desk.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('problem_id', 'ticket_id')
    )
    with op.batch_alter_table('problem_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_link_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_link_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('problem_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_link_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_problem_link_problem_id'))

    op.drop_table('problem_link')
    with op.batch_alter_table('problem_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_event_problem_id'))

    op.drop_table('problem_event')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_status'))

    op.drop_table('problem')
    op.drop_table('problem_chain')
