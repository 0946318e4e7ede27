"""council events: an event on a council's chain may concern the council itself (no ticket)

`playbooks sync` records a council's deactivation, and the API tokens it revoked, on that council's chain;
such an event has no ticket (`ticket_id` NULL, `ticket_ref` "").

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Council events would break the NOT NULL: a downgrade needs none recorded (or their chain given up).
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.alter_column('ticket_id', existing_type=sa.Integer(), nullable=False)
