"""Schema migrations (Alembic), driven from code so `desk db upgrade` needs no alembic.ini.

Alembic (with Mako and Pygments, about 10 MB of a process) is imported only to change the schema. The
web process and the worker only ask whether the schema is current (at start, and on every `/healthz`):
`current` reads Alembic's version table with plain SQL, and `head` reads the revision ids of the migration
files themselves (tests/db/test_migrations.py checks both agree with Alembic's own answers).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from desk.db.engine import read_only

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default: desk does not configure another


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "desk:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to `revision` (developers and migration tests; operators restore backups instead)."""
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision against `engine` (developers only)."""
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


@functools.cache
def head() -> str | None:
    """The latest revision: the one no migration file names as its `down_revision`. Anything Alembic allows
    that this reading does not expect (several heads, computed ids) is left to Alembic itself."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        assigned = {target.id: node.value for node in ast.parse(path.read_text()).body
                    if isinstance(node, ast.Assign) for target in node.targets if isinstance(target, ast.Name)}
        try:
            revisions.add(ast.literal_eval(assigned["revision"]))
            down = ast.literal_eval(assigned["down_revision"])
        except (KeyError, ValueError):
            return _alembic_head()
        downs.update(down if isinstance(down, tuple | list) else [down] if down else [])
    heads = revisions - downs
    if len(heads) != 1 or not all(isinstance(r, str) for r in revisions):
        return _alembic_head()
    return heads.pop()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration), as Alembic records it."""
    with read_only(engine) as session:  # health checks ask this often: never queue behind a writer
        connection = session.connection()
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the version table {VERSION_TABLE} holds more than one revision: {versions}")
    return versions[0] if versions else None


def is_current(engine: Engine) -> bool:
    return current(engine) == head()
