"""Alembic environment: runs against the connection `desk.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import desk.db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from desk.db import search_index

target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names) -> bool:
    """The search index is made by hand in its migration (desk/db/search_index.py): not metadata's."""
    return not search_index.owns(name)


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                      include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
