"""Syncing playbooks: versions when the meaning changes, tickets keep theirs, councils upserted."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.errors import InvalidInput
from desk.services import api_tokens, audit, playbooks, sla_state, tickets
from desk.services.playbook_files import load_directory
from tests.conftest import TEST_PLAYBOOKS

LATER = datetime(2026, 2, 1, tzinfo=UTC)


def copy_playbooks(tmp_path: Path) -> Path:
    target = tmp_path / "playbooks"
    shutil.copytree(TEST_PLAYBOOKS, target)
    return target


def sync(engine: Engine, directory: Path) -> playbooks.SyncReport:
    with unit_of_work(engine) as session:
        return playbooks.sync(session, load_directory(directory), at=LATER)


def test_first_sync_creates_version_one_and_the_councils(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        version = queries.find_current_playbook_version(session, "standard")
        assert version is not None and version.version == 1
        assert [c.id for c in queries.list_councils(session)] == ["belfast", "cherwell", "fife"]
        assert queries.get_council(session, "fife").division == "scotland"


def test_comments_and_formatting_do_not_make_a_version(synced: Engine, tmp_path: Path) -> None:
    directory = copy_playbooks(tmp_path)
    path = directory / "standard.yaml"
    path.write_text("# reviewed by the partnership board\n" + path.read_text().replace("{name: High", "{ name: High"))
    report = sync(synced, directory)
    assert report.new_versions == {} and report.unchanged == {"standard": 1}


def test_a_changed_target_is_a_new_version_and_open_tickets_keep_theirs(synced: Engine, tmp_path: Path) -> None:
    with unit_of_work(synced) as session:
        before = tickets.open_ticket(session, council_id="cherwell", title="Refund stuck", priority="P2",
                                     actor="U0COUNCIL", at=datetime(2026, 1, 5, 9, tzinfo=UTC))
    directory = copy_playbooks(tmp_path)
    path = directory / "standard.yaml"
    path.write_text(path.read_text().replace("P2: {name: High, respond: 1h", "P2: {name: High, respond: 2h"))
    assert sync(synced, directory).new_versions == {"standard": 2}
    with unit_of_work(synced) as session:
        after = tickets.open_ticket(session, council_id="cherwell", title="Refund stuck", priority="P2",
                                    actor="U0COUNCIL", at=datetime(2026, 1, 5, 9, tzinfo=UTC))
        old = sla_state.policy_for(session, queries.get_ticket(session, before.ref))
        new = sla_state.policy_for(session, queries.get_ticket(session, after.ref))
        assert old.target("P2").respond_within == 3600
        assert new.target("P2").respond_within == 7200


def test_a_council_removed_from_the_registry_is_deactivated_not_deleted(synced: Engine, tmp_path: Path) -> None:
    directory = copy_playbooks(tmp_path)
    registry = directory / "councils.yaml"
    text = registry.read_text()
    start = text.index("  - id: belfast")
    registry.write_text(text[:start] + text[text.index("support:"):])
    report = sync(synced, directory)
    assert report.councils_deactivated == ["belfast"]
    with unit_of_work(synced) as session:
        assert queries.get_council(session, "belfast").active is False


def test_deactivating_a_council_revokes_its_tokens_on_its_chain_and_relisting_does_not_restore_them(
        synced: Engine, tmp_path: Path) -> None:
    with unit_of_work(synced) as session:
        tickets.open_ticket(session, council_id="belfast", title="Rates bills not generated", actor="cli",
                            at=LATER)
        issued = api_tokens.create(session, council_id="belfast", name="Power BI", at=LATER)
        kept = api_tokens.create(session, council_id="cherwell", name="Power BI", at=LATER)
    directory = copy_playbooks(tmp_path)
    registry = directory / "councils.yaml"
    listed = registry.read_text()
    start = listed.index("  - id: belfast")
    registry.write_text(listed[:start] + listed[listed.index("support:"):])
    sync(synced, directory)
    with unit_of_work(synced) as session:
        assert api_tokens.authenticate(session, issued.secret) is None
        assert api_tokens.authenticate(session, kept.secret) is not None
        last = queries.list_council_events(session, "belfast")[-1]
        assert (last.type, last.ticket_id, last.ticket_ref, last.actor) == (
            "council_deactivated", None, "", playbooks.SYNC_ACTOR)
        assert last.data["api_tokens_revoked"] == [f"{issued.row.id} {issued.row.prefix}…"]
        assert [r.ok for r in audit.verify_all(session)] == [True, True, True]
        with pytest.raises(InvalidInput, match="inactive"):
            api_tokens.create(session, council_id="belfast", name=None, at=LATER)
    registry.write_text(listed)  # listed again: active again, its old tokens stay revoked
    assert sync(synced, directory).councils_updated == ["belfast"]
    with unit_of_work(synced) as session:
        assert api_tokens.authenticate(session, issued.secret) is None
