"""saved replies: each version of each reply in playbooks/replies.yaml, synced like playbooks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 02:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import desk.db.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_reply_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reply_id', 'version')
    )
    with op.batch_alter_table('saved_reply_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_reply_version_reply_id'), ['reply_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_reply_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_reply_version_reply_id'))
    op.drop_table('saved_reply_version')
