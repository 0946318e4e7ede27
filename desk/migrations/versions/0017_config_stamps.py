"""config stamps: a version stamp per kind of configuration, moved by triggers on every change

`config_stamp` holds one row per stamp (desk/db/stamps.py): `registry` (the `council` rows' configuration
and the `support_config` row) and `problems` (the `problem` rows). Triggers set a new random value on every
INSERT and DELETE, and on UPDATEs of configuration columns only: the columns intake writes for each ticket
(`council.next_number`, `last_seq`, `last_hash`, `updated_at`) do not move it, or every ticket would. A
trigger moves it whoever writes (`desk playbooks sync` in another process, another replica, plain SQL), in
the writer's own transaction. Random rather than counted: a value is never seen twice for different
contents, even after a rolled-back change or a restored backup.

SQLite: a table rebuilt by a later batch migration (`render_as_batch`) loses its triggers; such a migration
must create them again (tests/db/test_stamps.py notices if it does not).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:00:00
"""
import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COUNCIL_SETTINGS = "name, ref_prefix, playbook_id, division, slack, digest, retention, active"
# (table, stamp, the UPDATE OF columns; None: any column)
WATCHED = (("council", "registry", COUNCIL_SETTINGS), ("support_config", "registry", None),
           ("problem", "problems", None))


def upgrade() -> None:
    op.create_table('config_stamp',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stamp', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(sa.table('config_stamp', sa.column('name'), sa.column('stamp')),
                   [{"name": "registry", "stamp": secrets.token_hex(16)},
                    {"name": "problems", "stamp": secrets.token_hex(16)}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION desk_bump_config_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "UPDATE config_stamp SET stamp = md5(random()::text || clock_timestamp()::text) "
                   "WHERE name = TG_ARGV[0]; RETURN NULL; END $$")
        for table, stamp, columns in WATCHED:
            update = f"UPDATE OF {columns}" if columns else "UPDATE"
            op.execute(f"CREATE TRIGGER {table}_config_stamp AFTER INSERT OR DELETE OR TRUNCATE OR {update} "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION desk_bump_config_stamp('{stamp}')")
        return
    for table, stamp, columns in WATCHED:
        for change in ("INSERT", "DELETE", f"UPDATE OF {columns}" if columns else "UPDATE"):
            op.execute(f"CREATE TRIGGER {table}_config_stamp_{change.split()[0].lower()} AFTER {change} ON {table} "
                       f"BEGIN UPDATE config_stamp SET stamp = lower(hex(randomblob(16))) "
                       f"WHERE name = '{stamp}'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER {table}_config_stamp ON {table}")
        op.execute("DROP FUNCTION desk_bump_config_stamp()")
    else:
        for table, _, _ in WATCHED:
            for change in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_config_stamp_{change}")
    op.drop_table('config_stamp')
