"""The web process imports what serving needs, and nothing it does not (issue 16: memory).

`desk serve --http` checks everything, then hands over to a lean gunicorn master (`desk.web_master`), whose
worker builds the app. Chart rendering (Pillow), the report and digest templates (Jinja2), Alembic (with
Mako and Pygments), the command line (typer, rich) and the sandbox's console are imported only when
something uses them: a digest sent, a report page served, `desk db upgrade`. These tests keep it so; each
starts a fresh interpreter, as the processes do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.db import migrate
from desk.db.engine import make_engine
from desk.sandbox.slack_api import SlackStandIn
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import SECRET

NOT_IN_THE_WEB_PROCESS = ("alembic", "mako", "pygments", "PIL", "jinja2", "typer", "rich", "desk.cli",
                          "desk.rendering", "desk.sandbox.console_http", "desk.sandbox.console_actions")
NOT_IN_THE_LEAN_MASTER = (*NOT_IN_THE_WEB_PROCESS, "pydantic", "sqlalchemy", "slack_bolt", "holidays",
                          "apscheduler", "desk.config", "desk.wiring", "desk.services", "desk.slack.app")

# What the gunicorn worker does when it boots (`desk.server._Gunicorn.load`): the app (all of it on
# PostgreSQL, where the web process runs no jobs), then on SQLite the worker's jobs; the modules after each.
WORKER_BOOT = """
import json, sys
from desk.wiring import Wiring
wiring = Wiring.from_environ()
wiring.wsgi_app()
print(json.dumps(sorted(sys.modules)))
from apscheduler.schedulers.background import BackgroundScheduler
wiring.worker().schedule(BackgroundScheduler(timezone="UTC"))  # scheduled, not started: no job runs
print(json.dumps(sorted(sys.modules)))
"""

# The worker's boot itself (`_Gunicorn.load`, the lean master's worker), then how many objects it froze.
WORKER_LOAD = """
import gc, json, os
from desk.server import _Gunicorn, gunicorn_options
before = gc.get_freeze_count()
_Gunicorn(None, gunicorn_options(host="127.0.0.1", port=0, workers=1, threads=1)).load()
print(json.dumps([before, gc.get_freeze_count()]), flush=True)
os._exit(0)  # the worker's jobs started (SQLite): not waited for
"""

LEAN_MASTER = """
import json, sys
import desk.web_master, desk.server
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    slack = SlackStandIn().start()
    try:
        yield {"DESK_DATABASE_URL": url, "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS), "SLACK_BOT_TOKEN": "xoxb-test",
               "SLACK_SIGNING_SECRET": SECRET, "DESK_SLACK_API_URL": slack.api_url, "PATH": "/usr/bin:/bin"}
    finally:
        slack.stop()


def loaded(code: str, env: dict[str, str]) -> list[list[str]]:
    """The module lists `code` printed, one a line."""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]


def imported(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def test_the_web_worker_boots_without_what_it_does_not_serve(env: dict[str, str]) -> None:
    app, with_jobs = loaded(WORKER_BOOT, env)
    assert "desk.slack.web" in app and "desk.scheduling.worker" in with_jobs  # the probe did boot both
    assert imported(app, NOT_IN_THE_WEB_PROCESS + ("apscheduler", "desk.scheduling")) == []
    assert imported(with_jobs, NOT_IN_THE_WEB_PROCESS) == []


def test_the_lean_master_holds_gunicorn_and_the_log_handler_only(env: dict[str, str]) -> None:
    [modules] = loaded(LEAN_MASTER, env)
    assert "gunicorn.app.base" in modules
    assert imported(modules, NOT_IN_THE_LEAN_MASTER) == []


def test_the_web_worker_freezes_what_it_built_at_boot(env: dict[str, str]) -> None:
    """Full collections skip the boot heap (`desk.server.freeze_boot_heap`): without it, each walked the
    whole app again under load, a 70-98 ms stall of every request in flight."""
    [(before, after)] = loaded(WORKER_LOAD, env)
    assert before == 0 and after > 50_000
