"""The configuration stamps (desk/db/stamps.py, migration 0017) move with every change of what they cover,
whoever makes it, and never when a ticket is opened."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from desk.db import migrate
from desk.db.engine import unit_of_work
from desk.domain.tenancy import Actor, ActorKind
from desk.services import intake, problems

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def stamps_of(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {name: stamp for name, stamp in connection.execute(text("SELECT name, stamp FROM config_stamp"))}


def changed(engine: Engine, sql: str) -> set[str]:
    """The stamps that moved when `sql` was committed (plain SQL: no desk code knows it ran)."""
    before = stamps_of(engine)
    with engine.begin() as connection:
        connection.execute(text(sql))
    after = stamps_of(engine)
    return {name for name in after if after[name] != before[name]}


def test_each_kind_of_configuration_has_a_stamp(synced: Engine) -> None:
    stamps = stamps_of(synced)
    assert set(stamps) == {"registry", "problems"}
    assert all(len(stamp) == 32 for stamp in stamps.values())


def test_the_registry_stamp_moves_with_a_councils_settings_and_the_support_block(synced: Engine) -> None:
    assert changed(synced, "UPDATE council SET name = 'Fife Council (renamed)' WHERE id = 'fife'") == {"registry"}
    assert changed(synced, "UPDATE council SET active = false WHERE id = 'belfast'") == {"registry"}
    assert changed(synced, "UPDATE support_config SET content_hash = 'changed'") == {"registry"}
    assert changed(synced, "INSERT INTO council (id, name, ref_prefix, playbook_id, slack, next_number, last_seq, "
                           "last_hash, active, updated_at) VALUES ('newtown', 'Newtown', 'NEW', 'standard', "
                           "'{}', 1, 0, 'x', true, '2026-03-02 10:00:00')") == {"registry"}
    assert changed(synced, "DELETE FROM council WHERE id = 'newtown'") == {"registry"}


def test_the_problems_stamp_moves_with_every_problem_change(synced: Engine) -> None:
    before = stamps_of(synced)
    with unit_of_work(synced) as session:
        problem = problems.open_problem(session, title="GOV.UK Pay timeouts", summary="", owner=None, by="U0E",
                                        now=AT, match=["gov.uk pay"])
    opened = stamps_of(synced)
    assert opened["problems"] != before["problems"] and opened["registry"] == before["registry"]
    with unit_of_work(synced) as session:
        problems.resolve_problem(session, problem.id, by="U0E", now=AT, note="fixed", key="r1")
    assert stamps_of(synced)["problems"] != opened["problems"]


def test_opening_a_ticket_moves_no_stamp(synced: Engine) -> None:
    """The council row is written for every ticket (its number, its chain's head): those columns do not
    count, or every ticket would throw the caches away."""
    before = stamps_of(synced)
    actor = Actor(user="U0ALICE001", team="T0FIFE0001", kind=ActorKind.COUNCIL, council_id="fife")
    with unit_of_work(synced) as session:
        assert intake.first_time(session, "event:Ev1", "event", AT)
        intake.open_request(session, actor=actor, text="Direct debit run failed", at=AT, requester="U0ALICE001",
                            channel="C0FIFE0001", ts="1.1")
    assert stamps_of(synced) == before
    assert not changed(synced, "UPDATE council SET next_number = next_number + 1, last_seq = last_seq, "
                               "last_hash = last_hash, updated_at = updated_at")


def test_a_rolled_back_change_leaves_the_stamp(synced: Engine) -> None:
    before = stamps_of(synced)
    with synced.connect() as connection, connection.begin() as transaction:
        connection.execute(text("UPDATE council SET name = 'Not kept' WHERE id = 'fife'"))
        transaction.rollback()
    assert stamps_of(synced) == before


def test_the_stamps_and_their_triggers_go_and_come_back_with_their_migration(synced: Engine) -> None:
    migrate.downgrade(synced, "0016")
    assert "config_stamp" not in inspect(synced).get_table_names()
    with synced.begin() as connection:  # no trigger is left behind to fail on the missing table
        connection.execute(text("UPDATE council SET name = 'Fife' WHERE id = 'fife'"))
    migrate.upgrade(synced)
    assert changed(synced, "UPDATE council SET name = 'Fife Council' WHERE id = 'fife'") == {"registry"}
