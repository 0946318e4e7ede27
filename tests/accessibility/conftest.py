"""Pages desk serves, each behind a fixture answering its URL (tests/accessibility/pages.py lists them).

The report pages come from the real web process (desk's WSGI front in a thread, tests/slack/conftest.py)
over the hand-computed history of tests/services/test_reports.py, fetched through signed links as a
person would follow them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from desk.db.engine import unit_of_work
from desk.services.report_links import LinkMaker
from tests.accessibility.browser import chromium, needs_chromium
from tests.processes import desk_cli, eventually, free_port
from tests.services.test_reports import END, START, seed
from tests.slack.conftest import Desk, desk, stand_in  # noqa: F401 (fixtures, found by name)

REPORT_DAY = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if needs_chromium.args[0]:
        pytest.skip(needs_chromium.kwargs["reason"])
    pytest.importorskip("playwright", reason="the dev lock is not installed here (make test installs it)")
    with chromium() as browser:
        yield browser


def _links(site: Desk) -> LinkMaker:
    app = urlsplit(site.driver.app_url)
    links = site.wiring.report_links()
    assert links is not None
    return LinkMaker(f"{app.scheme}://{app.netloc}", links.secret)  # the app's real address


@pytest.fixture
def seeded_desk(desk: Desk) -> Desk:  # noqa: F811
    with unit_of_work(desk.engine) as session:
        seed(session)
    desk.clock.at = REPORT_DAY
    return desk


@pytest.fixture
def report_with_data(seeded_desk: Desk) -> str:
    return _links(seeded_desk).url(None, START, END, now=seeded_desk.clock.now())[0]


@pytest.fixture
def report_for_one_council(seeded_desk: Desk) -> str:
    return _links(seeded_desk).url("cherwell", START, END, now=seeded_desk.clock.now())[0]


@pytest.fixture
def report_empty(desk: Desk) -> str:  # noqa: F811
    desk.clock.at = REPORT_DAY
    return _links(desk).url(None, date(2025, 6, 2), date(2025, 6, 8), now=desk.clock.now())[0]


@pytest.fixture
def link_refused(seeded_desk: Desk) -> str:
    url, _ = _links(seeded_desk).url("cherwell", START, END, now=seeded_desk.clock.now(),
                                      lifetime=timedelta(minutes=5))
    seeded_desk.clock.advance(minutes=6)
    return url


@pytest.fixture
def link_to_a_removed_council(seeded_desk: Desk) -> str:
    return _links(seeded_desk).url("wychavon", START, END, now=seeded_desk.clock.now())[0]


@pytest.fixture
def report_failing(seeded_desk: Desk) -> str:
    """A database that lost a table behind desk's back: the page fails, and says so politely."""
    with seeded_desk.engine.begin() as connection:
        connection.execute(text("ALTER TABLE ticket_rating RENAME TO ticket_rating_gone"))
    return _links(seeded_desk).url(None, START, END, now=seeded_desk.clock.now())[0]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture
def sandbox_console(tmp_path: Path) -> Iterator[str]:
    """`desk sandbox` as a person starts it (its own SQLite database, the repository's playbooks, no Slack
    credentials), answering the console's URL. Skips where this build has no `desk sandbox` yet: add
    `Page("sandbox console", "sandbox_console")` to pages.py once it has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DESK_"))}
    env["DESK_PLAYBOOKS_DIR"] = str(ROOT / "playbooks")
    if desk_cli(env, "sandbox", "--help").returncode != 0:
        pytest.skip("this build has no `desk sandbox`")
    port, log = free_port(), tmp_path / "sandbox.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "desk", "sandbox", "--port", str(port),
                                    "--database", f"sqlite:///{tmp_path / 'sandbox.db'}"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        eventually(lambda: process.poll() is not None or _answers(url),
                   lambda: f"the console at {url} did not answer:\n{log.read_text()[-3000:]}", timeout=60)
        assert process.poll() is None, log.read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
