"""Which databases belong to the sandbox: a one-row table written when `desk sandbox` first uses one.

The sandbox makes up people, tickets and time. Run against a real desk's database it would mix invented
tickets into a council's audit trail and post them to nobody, so it refuses any database that holds tickets,
or desk's schema at all, without this mark. Only an empty database (a fresh file) is marked and used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, inspect, text

from desk.errors import ConfigError

MARK_TABLE = "desk_sandbox"


def is_marked(engine: Engine) -> bool:
    return inspect(engine).has_table(MARK_TABLE)


def ticket_count(engine: Engine) -> int:
    if not inspect(engine).has_table("ticket"):
        return 0
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one())


def claim(engine: Engine, *, url: str, at: datetime) -> None:
    """Mark the database as the sandbox's, or refuse one holding tickets that are not the sandbox's."""
    if is_marked(engine):
        return
    tickets = ticket_count(engine)
    what_to_do = ("Run `desk sandbox` without --database (it uses sqlite:///sandbox.db), or give it a new, "
                  "empty database.")
    if tickets:
        raise ConfigError(f"{url} holds {tickets} ticket(s) that the sandbox did not create: it will not mix "
                          f"invented tickets into a real desk's database. {what_to_do}")
    if inspect(engine).has_table("alembic_version"):  # a real desk, set up but with no tickets yet
        raise ConfigError(f"{url} is a desk database the sandbox did not create: it will not fill a real "
                          f"desk with invented people and tickets. {what_to_do}")
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {MARK_TABLE} (created_at VARCHAR(40) NOT NULL)"))
        connection.execute(text(f"INSERT INTO {MARK_TABLE} (created_at) VALUES (:at)"), {"at": at.isoformat()})
