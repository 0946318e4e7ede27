"""SQLite's WAL checkpoints run beside desk's writers (desk/db/checkpoints.py), not inside their commits:
what is committed still reaches the database file, and the log does not grow for ever under a stream of
writers that never pauses."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Engine

from desk.db import checkpoints
from desk.db.engine import make_engine, unit_of_work


def a_file_engine(tmp_path: Path) -> tuple[Engine, Path]:
    path = tmp_path / "desk.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    return engine, path


def test_a_commit_reaches_the_database_file_without_the_writer_copying_it(tmp_path: Path) -> None:
    engine, path = a_file_engine(tmp_path)
    with engine.connect() as connection:  # the writers leave the copying to the checkpointer
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    marker = "rate-limited by GOV.UK Pay since 09:12"
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO note (text) VALUES (?)", (marker,))
    assert marker.encode() in (path.parent / "desk.db-wal").read_bytes()
    deadline = time.monotonic() + 10  # within EVERY (1 s) on a quiet machine; this one is shared
    while marker.encode() not in path.read_bytes():
        assert time.monotonic() < deadline, "the commit was never copied into the database file"
        time.sleep(0.05)
    engine.dispose()


def test_the_log_stays_short_under_writers_that_never_pause(tmp_path: Path) -> None:
    """3,000 commits of a 3 KB row, back to back from one thread, as fast as it goes: the log would grow past
    25 MB if it never started again from its beginning (a checkpoint beside writers that keep appending
    never finds it all copied). The default, inline, checkpoints kept it near 4 MB."""
    engine, path = a_file_engine(tmp_path)
    wal, longest = path.parent / "desk.db-wal", 0
    for n in range(3_000):
        with unit_of_work(engine) as session:
            session.connection().exec_driver_sql("INSERT INTO note (text) VALUES (?)", (f"{n:06d}" + "x" * 3_000,))
        longest = max(longest, wal.stat().st_size)
    assert longest < 12_000_000, f"the log grew to {longest / 1e6:.1f} MB"
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM note").scalar() == 3_000
    engine.dispose()


def test_a_database_file_that_has_gone_is_forgotten_not_made_again(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / "desk.db"
    assert checkpoints.checkpoint(str(gone)) is None
    gone.parent.mkdir()
    assert checkpoints.checkpoint(str(gone)) is None
    assert not os.path.exists(gone)
