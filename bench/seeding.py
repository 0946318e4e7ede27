"""Seeding shared by the benchmarks: a fresh database, real tickets as templates, bulk clones of them.

The benchmarks are run as `python bench/<name>.py`, so `bench/` is on sys.path and `import seeding` works.

    with fresh_database(args.database) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        seeder = Seeder.start(engine)     # one real P1 ticket per council, opened through tickets.open_ticket
        seeder.grow(100_000)              # clones of them (ticket + its clock rows) until 100k are open
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow, OutboxRow, SlaClockRow, TicketRow
from desk.services import playbooks, tickets
from desk.services.playbook_files import load_directory

PLAYBOOKS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "playbooks"
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # a Wednesday morning
# Templates are P1 (respond 30m, resolve 4h, 24x7) opened 10 min ago: the first step (respond 75%) is
# 12.5 min away. On a 24x7 clock shifting every instant of a ticket by the same amount keeps it exact, so
# clones are shifted back by 0-10 min (still in the future) by default.
OPENED_AT = NOW - timedelta(minutes=10)
SPREAD_SECONDS = 600
CHUNK = 10_000
COUNCILS, TICKETS, CLOCKS, OUTBOX = (CouncilRow.__table__, TicketRow.__table__, SlaClockRow.__table__,
                                     OutboxRow.__table__)


@dataclass
class Template:
    """A real ticket opened through `tickets.open_ticket`, as raw column values, for one council."""

    prefix: str
    ticket: dict
    clocks: list[dict]
    next_number: int

    def first_step(self, delta: timedelta) -> datetime:
        return min(c["next_step_at"] for c in self.clocks) + delta


def shifted(row: dict, delta: timedelta, **changes: object) -> dict:
    return {k: v + delta if isinstance(v, datetime) else v for k, v in row.items()} | changes


@contextmanager
def fresh_database(url: str | None, prefix: str = "bench_") -> Iterator[str]:
    """A temporary SQLite file (a SQLite URL is used as given: name a new file), or a new database on the
    given server, dropped afterwards."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix=prefix) as directory:
            yield url or f"sqlite:///{directory}/desk.db"
        return
    name = f"desk_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def copy_database(url: str, engine: Engine) -> Iterator[str]:
    """An identical copy of a seeded database, dropped afterwards; `engine` (on `url`) is disposed first.
    SQLite: sqlite3's online backup of the file. A server: `CREATE DATABASE ... TEMPLATE` the original."""
    engine.dispose()
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench_copy_") as directory:
            target = Path(directory) / "desk.db"
            source, copy = sqlite3.connect(make_url(url).database or ""), sqlite3.connect(target)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=WAL")
            finally:
                source.close()
                copy.close()
            yield f"sqlite:///{target}"
        return
    source = make_url(url)
    name = f"desk_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def open_templates(engine: Engine, *, opened_at: datetime = OPENED_AT, playbook_dir: Path = PLAYBOOKS,
                   priority: str = "P1") -> list[Template]:
    """Sync the playbooks and open one real ticket per council (P1 unless told); their rows, read back, are
    the templates."""
    with unit_of_work(engine) as session:
        playbooks.sync(session, load_directory(playbook_dir), at=opened_at - timedelta(days=1))
        councils = queries.list_councils(session)
        opened = [tickets.open_ticket(session, council_id=c.id, title="Card payments failing", at=opened_at,
                                      actor="U0BENCH", priority=priority).id for c in councils]
    templates = []
    with engine.connect() as connection:
        for council, ticket_id in zip(councils, opened, strict=True):
            ticket = connection.execute(select(TICKETS).where(TICKETS.c.id == ticket_id)).one()._asdict()
            clocks = [r._asdict() for r in connection.execute(select(CLOCKS).where(CLOCKS.c.ticket_id == ticket_id))]
            templates.append(Template(council.ref_prefix, ticket, clocks, council.next_number))
    return templates


def spread_delta(first_clone: int) -> Callable[[int], timedelta]:
    """The default shift: real tickets as opened; clones 0-10 min older, so their first step is still ahead."""
    return lambda ticket_id: timedelta(seconds=-(ticket_id % SPREAD_SECONDS) if ticket_id >= first_clone else 0)


@dataclass
class Seeder:
    """Bulk clones of the templates, with ids from `next_id` on; `delta_of(id)` shifts a clone in time."""

    engine: Engine
    templates: list[Template]
    first_clone: int
    next_id: int
    delta_of: Callable[[int], timedelta]

    @classmethod
    def start(cls, engine: Engine, *, opened_at: datetime = OPENED_AT, playbook_dir: Path = PLAYBOOKS,
              delta_of: Callable[[int], timedelta] | None = None, priority: str = "P1") -> Seeder:
        templates = open_templates(engine, opened_at=opened_at, playbook_dir=playbook_dir, priority=priority)
        first_clone = max(t.ticket["id"] for t in templates) + 1
        return cls(engine, templates, first_clone, first_clone, delta_of or spread_delta(first_clone))

    def template_of(self, ticket_id: int) -> Template:
        return self.templates[ticket_id % len(self.templates)]

    def grow(self, total: int) -> float:
        """Bulk-insert clones of the templates (ticket + its clock rows) until ids reach `total`; seconds taken."""
        began = time.perf_counter()
        with self.engine.begin() as connection:
            for start in range(self.next_id, total + 1, CHUNK):
                ids = range(start, min(start + CHUNK, total + 1))
                ticket_rows, clock_rows = [], []
                for ticket_id in ids:
                    template, delta = self.template_of(ticket_id), self.delta_of(ticket_id)
                    number, template.next_number = template.next_number, template.next_number + 1
                    ticket_rows.append(shifted(template.ticket, delta, id=ticket_id, number=number,
                                               ref=f"{template.prefix}-{number}"))
                    clock_rows += [shifted({k: v for k, v in c.items() if k != "id"}, delta, ticket_id=ticket_id)
                                   for c in template.clocks]
                connection.execute(insert(TICKETS), ticket_rows)
                connection.execute(insert(CLOCKS), clock_rows)
            for t in self.templates:
                connection.execute(update(COUNCILS).where(COUNCILS.c.id == t.ticket["council_id"]).values(
                    next_number=t.next_number))
            connection.execute(text("ANALYZE"))
        self.next_id = max(self.next_id, total + 1)
        return time.perf_counter() - began
