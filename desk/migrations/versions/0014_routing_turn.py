"""routing turn: whose turn it is under each auto-assignment rule of the duty rota

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 02:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import desk.db.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_turn',
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_assignee', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('updated_at', desk.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('rule_id')
    )


def downgrade() -> None:
    op.drop_table('routing_turn')
