"""`desk digest preview|send` in-process, against a real database file and the frozen test playbooks."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from PIL import Image
from sqlalchemy import update
from sqlmodel import select

from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow
from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS
from tests.rendering.test_digests import COUNCIL_W03
from tests.services.test_digests import seed_week

MONDAY_10 = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)  # an hour after Cherwell's W03 digest was due


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str
         ) -> Callable[..., Result]:
    """A migrated, synced and seeded database; `desk(...)` runs `desk digest …` (or any other command)."""
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(TEST_PLAYBOOKS))

    def run(*args: str) -> Result:
        return run_desk(capsys, *args)

    assert run("db", "upgrade").code == 0 and run("playbooks", "sync").code == 0
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        seed_week(session)
    engine.dispose()
    return run


def keys(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        rows = session.exec(select(OutboxRow).order_by(OutboxRow.id)).all()
        found = [(row.idempotency_key, row.status) for row in rows]
    engine.dispose()
    return found


def test_preview_prints_exactly_the_text_and_writes_the_chart(desk, tmp_path: Path) -> None:
    chart = tmp_path / "w03.png"
    result = desk("digest", "preview", "--council", "cherwell", "--week", "2026-W03", "--chart", str(chart))
    assert result.code == 0 and result.out == COUNCIL_W03 + "\n"
    with Image.open(chart) as image:
        assert (image.format, image.size) == ("PNG", (640, 320))
    assert "chart written to" in result.err


def test_preview_defaults_to_this_week_and_covers_the_managers(desk) -> None:
    with time_machine.travel(datetime(2026, 1, 14, 12, tzinfo=UTC), tick=False):  # Wed of W03
        assert desk("digest", "preview", "--council", "cherwell").out == COUNCIL_W03 + "\n"
        managers = desk("digest", "preview", "--council", "managers")
    assert managers.code == 0 and managers.out.startswith("*Managers' digest: 2026-W03*\n")


@pytest.mark.parametrize(("args", "message"), [
    (("--council", "cherwell", "--week", "2026-3"), "error: --week: '2026-3' is not an ISO week like 2026-W02"),
    (("--council", "nowhere"), "error: --council: no council 'nowhere'"),
    (("--council", "fife"), "error: council 'fife' has no digest schedule"),
])
def test_bad_arguments_are_named(desk, args: tuple[str, ...], message: str) -> None:
    result = desk("digest", "preview", *args)
    assert result.code == 1 and result.err.startswith(message) and result.out == ""


def test_send_queues_each_week_once_unless_forced(desk, database_url: str) -> None:
    with time_machine.travel(MONDAY_10, tick=False):
        first = desk("digest", "send")
        again = desk("digest", "send")
    assert (first.code, first.out) == (0, "cherwell 2026-W03: queued\nmanagers 2026-W03: queued\n")
    assert (again.code, again.out) == (0, "cherwell 2026-W03: already queued (use --force)\n"
                                          "managers 2026-W03: already queued (use --force)\n")
    engine = make_engine(database_url)
    with unit_of_work(engine) as session:  # the dispatcher posted it
        session.exec(update(OutboxRow).values(status="sent"))  # type: ignore[call-overload]
    engine.dispose()
    with time_machine.travel(MONDAY_10, tick=False):
        sent = desk("digest", "send", "--council", "cherwell")
        forced = desk("digest", "send", "--council", "cherwell", "--force")
        early = desk("digest", "send", "--council", "cherwell", "--week", "2026-W04")
    assert sent.out == "cherwell 2026-W03: already sent (use --force)\n"
    assert forced.out == "cherwell 2026-W03: queued again\n"
    assert early.out == "cherwell 2026-W04: queued (posts Mon 19 Jan 2026 09:00:00 GMT)\n"
    assert keys(database_url) == [
        ("digest:cherwell:2026-W03", "sent"), ("managers_digest:2026-W03", "sent"),
        ("digest:cherwell:2026-W03:force:2", "pending"), ("digest:cherwell:2026-W04", "pending")]


def test_the_png_from_preview_is_the_one_rendered(desk, tmp_path: Path) -> None:
    chart = tmp_path / "managers.png"
    assert desk("digest", "preview", "--council", "managers", "--week", "2026-W03", "--chart", str(chart)).code == 0
    with Image.open(io.BytesIO(chart.read_bytes())) as image:
        assert image.size == (640, 320)
