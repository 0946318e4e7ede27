"""inbox: the durable receipt of Slack requests with work after their ack

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 22:00:00.000000
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import desk.db.types

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('leased_until', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', desk.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_unfinished', ['done_at', 'leased_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_unfinished')
    op.drop_table('inbox')
