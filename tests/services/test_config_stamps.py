"""The registry and the open problems are cached per process under their stamps (desk/db/stamps.py): a
change committed anywhere else (another process's `desk playbooks sync`, a problem command on another
replica) is seen by the next message, and a unit of work's own changes by itself."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import Engine

from desk.db.engine import make_engine, unit_of_work
from desk.domain.tenancy import ActorKind
from desk.services import intake, playbooks, problems, tenancy
from desk.services.playbook_files import load_directory
from tests.conftest import TEST_PLAYBOOKS

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
NEWTOWN = """  - id: newtown
    name: Newtown Borough Council
    ref_prefix: NTB
    playbook: standard
    slack: {teams: [T0NEWTOWN1], channels: [C0NEWTOWN1]}
"""
_events = count(1)


@pytest.fixture
def elsewhere(synced: Engine) -> Iterator[Engine]:
    """Another process's connections to the same database."""
    other = make_engine(synced.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


def sync_from(engine: Engine, tmp_path: Path, edit) -> playbooks.SyncReport:
    directory = tmp_path / f"playbooks{next(_events)}"
    shutil.copytree(TEST_PLAYBOOKS, directory)
    registry = directory / "councils.yaml"
    registry.write_text(edit(registry.read_text()))
    with unit_of_work(engine) as session:
        return playbooks.sync(session, load_directory(directory), at=AT)


def message(engine: Engine, *, user: str, team: str, channel: str, text: str = "Payments failing"):
    """What the `message` listener's transaction does (bench/bench_intake.py `open_from_message`)."""
    with unit_of_work(engine) as session:
        assert intake.first_time(session, f"event:Ev{next(_events)}", "event", AT)
        actor = tenancy.actor(session, user=user, team=team, channel=channel)
        if not (actor.is_council and tenancy.is_council_channel(session, channel, actor.council_id)):
            return actor, None
        return actor, intake.open_request(session, actor=actor, text=text, at=AT, requester=user,
                                          channel=channel, ts=f"{next(_events)}.1")


def test_a_council_added_by_a_sync_on_another_connection_is_seen_by_the_next_message(
        synced: Engine, elsewhere: Engine, tmp_path: Path) -> None:
    actor, opened = message(synced, user="U0NEW00001", team="T0NEWTOWN1", channel="C0NEWTOWN1")
    assert actor.kind is ActorKind.UNKNOWN and opened is None  # and the registry is cached without newtown
    report = sync_from(elsewhere, tmp_path, lambda text: text.replace("support:", NEWTOWN + "support:"))
    assert report.councils_added == ["newtown"]
    actor, opened = message(synced, user="U0NEW00001", team="T0NEWTOWN1", channel="C0NEWTOWN1")
    assert actor.council_id == "newtown" and opened is not None and opened.ticket.ref == "NTB-1"


def test_a_council_changed_by_a_sync_on_another_connection_is_seen_by_the_next_message(
        synced: Engine, elsewhere: Engine, tmp_path: Path) -> None:
    _, opened = message(synced, user="U0FIFE0001", team="T0FIFE0001", channel="C0FIFE0003")
    assert opened is None  # not one of Fife's channels (yet)
    sync_from(elsewhere, tmp_path, lambda text: text.replace("C0FIFE0002]", "C0FIFE0002, C0FIFE0003]")
              .replace("triage_channel: C0TRIAGE", "triage_channel: C0TRIAGE2"))
    _, opened = message(synced, user="U0FIFE0001", team="T0FIFE0001", channel="C0FIFE0003")
    assert opened is not None and opened.ticket.ref == "FIFE-1"
    with unit_of_work(synced) as session:
        assert tenancy.directory(session).triage_channel == "C0TRIAGE2"
        assert tenancy.support_definition(session)["triage_channel"] == "C0TRIAGE2"


def test_a_problem_opened_and_resolved_on_another_connection_changes_the_next_tickets_triage(
        synced: Engine, elsewhere: Engine) -> None:
    cherwell = {"user": "U0ALICE001", "team": "T0CHERWELL", "channel": "C0CHERWELL",
                "text": "GOV.UK Pay is timing out"}
    assert message(synced, **cherwell)[1].problem_id is None  # no problem yet: cached as none
    with unit_of_work(elsewhere) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay timeouts", summary="", owner=None, by="U0E",
                                        now=AT, match=["gov.uk pay"])
    assert message(synced, **cherwell)[1].problem_id == problem.id
    with unit_of_work(elsewhere) as session:
        problems.resolve_problem(session, problem.id, by="U0E", now=AT, note="fixed", key="r1")
    assert message(synced, **cherwell)[1].problem_id is None


def test_a_unit_of_work_sees_its_own_changes_before_it_commits(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        assert intake.first_time(session, "event:EvOwn", "event", AT)  # the stamps, noted before the change
        assert tenancy.directory(session).council_names["fife"] == "Fife Council"
        assert problems.intake_rules(session) == []
        council = tenancy.queries.get_council(session, "fife")
        council.name = "Fife Council (renamed)"
        session.add(council)
        problem = problems.open_problem(session, title="GOV.UK Pay timeouts", summary="", owner=None, by="U0E",
                                        now=AT, match=["gov.uk pay"])
        assert tenancy.directory(session).council_names["fife"] == "Fife Council (renamed)"
        assert [rule.problem_id for rule in problems.intake_rules(session)] == [problem.id]
        session.rollback()
    with unit_of_work(synced) as session:  # what was rolled back was never anyone else's
        assert tenancy.directory(session).council_names["fife"] == "Fife Council"
        assert problems.intake_rules(session) == []
