"""`desk export`, `desk audit export`, `desk tokens` and `desk retention` end to end: the real entry point,
a real database file, and the auditors' verifier exactly as docs/council-data.md prints it.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, create_engine, text

from desk.db.engine import make_engine
from tests.cli.runner import Result, run_desk
from tests.conftest import TEST_PLAYBOOKS
from tests.services.test_export import CHERWELL_TITLE, FIFE_TITLE, INTERNAL_NOTE, seed_history
from tests.services.test_retention import rehash_as_legacy

DOCS = Path(__file__).resolve().parents[2] / "docs" / "council-data.md"
AFTER_A_YEAR = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # CHW-1 was closed on 7 January 2026

Desk = Callable[..., Result]


@pytest.fixture
def playbooks_dir(tmp_path: Path) -> Path:
    """The test playbooks, with a one-year retention period for Cherwell."""
    directory = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    registry = directory / "councils.yaml"
    digest = 'digest: {channel: C0CHERWELL, day: mon, time: "09:00"}\n'
    retention = "    retention: {redact_after_days: 365}\n"
    registry.write_text(registry.read_text().replace(digest, digest + retention))
    return directory


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, database_url: str,
         playbooks_dir: Path) -> Desk:
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    monkeypatch.setenv("DESK_PLAYBOOKS_DIR", str(playbooks_dir))

    def run(*args: str) -> Result:
        return run_desk(capsys, *args)

    return run


@pytest.fixture
def seeded(desk: Desk, database_url: str) -> Iterator[Desk]:
    assert desk("db", "upgrade").code == 0
    assert desk("playbooks", "sync").code == 0
    engine = make_engine(database_url)
    seed_history(engine)
    engine.dispose()
    yield desk


def stored(database_url: str, table: str) -> str:
    engine: Engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = [list(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return json.dumps(rows)


def test_tokens_are_shown_once_and_only_their_hash_is_kept(seeded: Desk, database_url: str) -> None:
    created = seeded("tokens", "create", "--council", "cherwell", "--name", "Power BI")
    assert created.code == 0, created.err
    secret = re.search(r"desk_[A-Za-z0-9_-]{43}", created.out).group(0)
    assert "only time" in created.err
    assert secret not in stored(database_url, "api_token")
    listed = seeded("tokens", "list", "--json").json()
    assert listed == [{"id": 1, "council": "cherwell", "name": "Power BI", "prefix": secret[:12],
                       "created_at": listed[0]["created_at"], "revoked_at": None, "last_used_at": None}]
    assert secret not in seeded("tokens", "list").out
    as_json = seeded("tokens", "create", "--council", "fife", "--json").json()
    assert as_json["council"] == "fife" and as_json["token"].startswith("desk_")
    assert as_json["name"] == "fife API token"
    assert [t["id"] for t in seeded("tokens", "list", "--council", "fife", "--json").json()] == [2]
    revoked = seeded("tokens", "revoke", "1")
    assert revoked.code == 0 and "revoked" in revoked.out
    assert seeded("tokens", "list", "--json").json()[0]["revoked_at"] is not None
    missing = seeded("tokens", "revoke", "99")
    assert missing.code == 1 and "no API token 99" in missing.err
    assert "no council 'narnia'" in seeded("tokens", "create", "--council", "narnia").err


def test_export_jsonl_to_stdout_and_to_a_file(seeded: Desk, tmp_path: Path) -> None:
    result = seeded("export", "--council", "cherwell")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert {line["record"] for line in lines} == {"ticket", "event", "sla_cycle"}
    assert [line["ref"] for line in lines if line["record"] == "ticket"] == ["CHW-1", "CHW-2"]
    assert FIFE_TITLE not in result.out and INTERNAL_NOTE not in result.out
    out = tmp_path / "cherwell.jsonl"
    to_file = seeded("export", "--council", "cherwell", "--out", str(out))
    assert to_file.code == 0 and to_file.out == "" and "2 tickets" in to_file.err
    assert out.read_text() == result.out


def test_export_csv_to_a_directory_or_a_zip(seeded: Desk, tmp_path: Path) -> None:
    assert seeded("export", "--council", "fife", "--format", "csv", "--out", str(tmp_path / "fife")).code == 0
    with (tmp_path / "fife" / "tickets.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [row["ref"] for row in csv.DictReader(f)] == ["FIFE-1"]
    zipped = tmp_path / "f.zip"
    assert seeded("export", "--council", "fife", "--format", "csv", "--out", str(zipped)).code == 0
    with zipfile.ZipFile(tmp_path / "f.zip") as archive:
        assert "FIFE-1" in archive.read("tickets.csv").decode("utf-8-sig")
    no_out = seeded("export", "--council", "fife", "--format", "csv")
    assert no_out.code == 1 and "--out" in no_out.err
    assert "use jsonl or csv" in seeded("export", "--council", "fife", "--format", "xml").err
    assert "no council 'narnia'" in seeded("export", "--council", "narnia").err


def documented_verifier(tmp_path: Path) -> Path:
    """The verifier exactly as the docs print it: if the docs go wrong, this test does too."""
    docs = DOCS.read_text()
    code = re.search(r"save it as `verify_chain\.py`\):\n\n```python\n(.*?)```", docs, re.S).group(1)
    script = tmp_path / "verify_chain.py"
    script.write_text(code)
    return script


def verify_offline(script: Path, export: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), str(export)], capture_output=True, text=True,
                          timeout=60)


def test_an_auditor_verifies_the_export_offline_and_catches_an_edit(seeded: Desk, tmp_path: Path) -> None:
    export = tmp_path / "cherwell-audit.jsonl"
    result = seeded("audit", "export", "--council", "cherwell", "--out", str(export))
    assert result.code == 0, result.err
    header, *events = [json.loads(line) for line in export.read_text().splitlines()]
    assert header["head"]["seq"] == len(events) == 10 and INTERNAL_NOTE not in export.read_text()
    script = documented_verifier(tmp_path)
    ok = verify_offline(script, export)
    assert (ok.returncode, ok.stdout.strip()) == (0, "OK"), ok.stderr
    lines = export.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["data"]["text"] = "We never said we would refund"
    (tmp_path / "edited.jsonl").write_text("\n".join([*lines[:2], json.dumps(edited), *lines[3:]]) + "\n")
    caught = verify_offline(script, tmp_path / "edited.jsonl")
    assert (caught.returncode, caught.stdout.strip()) == (1, "event 2: its content does not match its hash")
    (tmp_path / "short.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    assert "events are missing" in verify_offline(script, tmp_path / "short.jsonl").stdout
    to_stdout = seeded("audit", "export", "--council", "cherwell")
    assert to_stdout.out.splitlines()[1:] == lines[1:]


def test_retention_from_the_command_line_then_the_chain_still_verifies_offline(
        seeded: Desk, tmp_path: Path, database_url: str) -> None:
    with time_machine.travel(AFTER_A_YEAR, tick=False):
        dry = seeded("retention", "apply", "--dry-run", "--json")
        assert dry.code == 0, dry.err
        assert [(c["council"], c["tickets"]) for c in dry.json()["councils"]] == [("cherwell", ["CHW-1"])]
        assert CHERWELL_TITLE in stored(database_url, "ticket")
        applied = seeded("retention", "apply")
        assert applied.code == 0 and "cherwell: redacted 1 ticket(s) closed over 365 days ago" in applied.out
        assert "redacted 0 ticket(s)" in seeded("retention", "apply").out
        assert "no retention period" in seeded("retention", "apply", "--council", "fife").out
        assert seeded("audit", "verify").code == 0
        shown = seeded("tickets", "show", "CHW-1", "--json").json()
    assert shown["title"] == "[redacted]" and shown["events"][-1]["type"] == "redacted"
    assert CHERWELL_TITLE not in stored(database_url, "ticket") + stored(database_url, "ticket_event")
    export = tmp_path / "after.jsonl"
    assert seeded("audit", "export", "--council", "cherwell", "--out", str(export)).code == 0
    assert verify_offline(documented_verifier(tmp_path), export).stdout.strip() == "OK"


def test_a_log_from_before_sealing_verifies_offline_too(seeded: Desk, tmp_path: Path, database_url: str) -> None:
    """Recipe 1 events hash their words verbatim; a recipe 1 internal note can only be checked for links."""
    engine = make_engine(database_url)
    rehash_as_legacy(engine, "cherwell")
    engine.dispose()
    export = tmp_path / "legacy.jsonl"
    assert seeded("audit", "export", "--council", "cherwell", "--out", str(export)).code == 0
    events = [json.loads(line) for line in export.read_text().splitlines()[1:]]
    note = next(e for e in events if e["type"] == "noted")
    assert (note["withheld"], note["data"]) == (True, None) and INTERNAL_NOTE not in export.read_text()
    assert {e["version"] for e in events} == {1}
    assert verify_offline(documented_verifier(tmp_path), export).stdout.strip() == "OK"
