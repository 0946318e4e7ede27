"""Search: the databases' own full-text index, kept current by the transactions that write tickets.

Run on SQLite and PostgreSQL (DESK_TEST_DATABASE_URL). Councils only ever find their own tickets; words
retention or an erasure removed cannot be found, and are gone from the index's own storage too.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from desk.db import migrate
from desk.db.engine import unit_of_work
from desk.db.tables import TicketRow
from desk.errors import InvalidInput
from desk.services import playbooks, retention, search, tickets
from desk.services.playbook_files import load_directory
from desk.services.search import Scope
from tests.conftest import SYNCED_AT
from tests.services.test_export import CHERWELL_WORDS, FIFE_TITLE, INTERNAL_NOTE, MONDAY, seed_history
from tests.services.test_retention import LATER, playbooks_with

EVERYONE = Scope.every_council()
HOSTILE = ['"', '""', "NEAR(refund", "refund*", "title:refund", "refund OR", "AND", "-refund", "'", "\\",
           "refund) OR (1=1", "{title}: x", "^refund", "réfund", "払い戻し", "a" * 5000, "NOT refund", "!!!"]


def refs(engine: Engine, words: str, scope: Scope = EVERYONE) -> list[str]:
    with unit_of_work(engine) as session:
        return [hit.ticket.ref for hit in search.search(session, words, scope=scope, now=LATER)]


def index_storage(engine: Engine) -> bytes:
    """Everything the index itself stores, as bytes: where a removed word that lingered would show up."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text("SELECT document::text FROM ticket_search")).all()
            return "\n".join(r[0] for r in rows).encode()
        tables = [r[0] for r in connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ticket_search_%'"))]
        stored = b""
        for table in tables:
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                stored += b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
        return stored


@pytest.fixture
def history(synced: Engine) -> Engine:
    seed_history(synced)  # CHW-1 (answered, closed), CHW-2 (open), FIFE-1
    return synced


def test_a_council_finds_only_its_own_tickets_and_support_finds_every_councils(history: Engine) -> None:
    # "failed": FIFE-1's title; "debit": FIFE-1 too. Cherwell searching for them finds nothing of Fife's.
    assert refs(history, "direct debit") == ["FIFE-1"]
    assert refs(history, "direct debit", Scope.council("cherwell")) == []
    assert refs(history, "direct debit", Scope.council("fife")) == ["FIFE-1"]
    assert refs(history, "refund", Scope.council("cherwell")) == ["CHW-1"]
    assert refs(history, "refund", Scope.council("fife")) == []


def test_titles_descriptions_and_public_replies_are_found_never_internal_notes(history: Engine) -> None:
    assert refs(history, "Acacia Avenue") == ["CHW-1"]  # title
    assert refs(history, "charged twice") == ["CHW-1"]  # description
    assert refs(history, "looking into") == ["CHW-1"]  # the public reply support wrote
    assert refs(history, "merchant config") == []  # an internal note: not for councils, nor support
    assert refs(history, "PSP") == []
    assert "merchant" in INTERNAL_NOTE


def test_words_are_stemmed_every_word_must_match_and_hits_carry_status_and_sla(history: Engine) -> None:
    assert refs(history, "REFUNDS") == ["CHW-1"]  # stemmed, case-folded
    assert refs(history, "refund audit") == []  # every word
    with unit_of_work(history) as session:
        [hit] = search.search(session, "audit committee", scope=Scope.council("cherwell"), now=LATER)
    assert (hit.ticket.ref, hit.ticket.status) == ("CHW-2", "new")
    assert hit.ticket.respond.due_at is not None and hit.ticket.respond.breached  # a year later: breached


def test_a_title_match_ranks_above_a_match_only_in_a_reply(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        replied = tickets.open_ticket(session, council_id="cherwell", title="Cannot print the daily report",
                                      actor="U0ALICE001", at=MONDAY)
        tickets.reply(session, ref=replied.ref, text="The reconciliation export will fix it", actor="U0ENG",
                      at=MONDAY + timedelta(minutes=5))
        tickets.open_ticket(session, council_id="cherwell", title="Reconciliation export is empty",
                            actor="U0ALICE001", at=MONDAY + timedelta(minutes=10))
    assert refs(synced, "reconciliation export") == ["CHW-2", "CHW-1"]


def test_peoples_words_are_never_query_syntax(history: Engine) -> None:
    for words in HOSTILE:
        for scope in (EVERYONE, Scope.council("cherwell")):
            try:  # no syntax error, whatever was typed: a result, or "give some words" when there are none
                refs(history, words, scope)
            except InvalidInput:
                assert not any(c.isalnum() for c in words), words
    assert refs(history, 'refund" OR "debit') == []  # quotes are not operators: every word must match
    assert refs(history, "refund*") == ["CHW-1"]
    for empty in ("", "   ", "!!! ???", "_"):
        with pytest.raises(InvalidInput, match="words to search for"):
            refs(history, empty)


def test_an_edit_before_triage_is_searched_by_its_new_words(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        ticket = tickets.open_ticket(session, council_id="fife", title="Payments", actor="U0BRUCE001",
                                     description="The kiosk is offline", at=MONDAY)
        tickets.request_edited(session, ref=ticket.ref, text="The parking machine is offline",
                               actor="U0BRUCE001", at=MONDAY + timedelta(minutes=1))
    assert refs(synced, "kiosk") == []
    assert refs(synced, "parking machine") == ["FIFE-1"]


def test_a_rollback_takes_the_index_back_with_the_ticket(synced: Engine) -> None:
    with pytest.raises(RuntimeError), unit_of_work(synced) as session:
        tickets.open_ticket(session, council_id="fife", title="Phantom gateway outage", actor="U0B", at=MONDAY)
        assert [h.ticket.ref for h in search.search(session, "phantom", scope=EVERYONE, now=MONDAY)] == ["FIFE-1"]
        raise RuntimeError("the request failed after the ticket was written")
    assert refs(synced, "phantom") == []


def test_retention_removes_the_words_from_the_index_and_its_storage(synced: Engine, tmp_path) -> None:
    with unit_of_work(synced) as session:
        directory = playbooks_with(tmp_path, "    retention: {redact_after_days: 365}\n")
        playbooks.sync(session, load_directory(directory), at=SYNCED_AT)
    seed_history(synced)
    assert refs(synced, "Acacia") == ["CHW-1"] and b"acacia" in index_storage(synced)
    assert retention.apply_retention(synced, now=LATER).tickets == 1
    for words in ("Acacia Avenue", "charged twice", "looking into the refund", "redacted"):
        assert refs(synced, words) == []
    stored = index_storage(synced).lower()
    for word in (b"acacia", b"avenu", b"4242", b"charg", b"jone"):
        assert word not in stored, word
    assert refs(synced, "audit committee") == ["CHW-2"]  # open: kept
    assert refs(synced, "direct debit") == ["FIFE-1"]  # another council: kept
    assert FIFE_TITLE.startswith("Fife")


def test_the_migration_builds_the_index_for_tickets_already_there(history: Engine) -> None:
    with unit_of_work(history) as session:
        tickets.request_edited(session, ref="CHW-2", text="Also the minutes", actor="U0ALICE001",
                               at=MONDAY + timedelta(days=1))
    wanted = {words: refs(history, words) for words in (*CHERWELL_WORDS, "direct debit", "minutes", "committee")}
    migrate.downgrade(history, "0011")
    migrate.upgrade(history)  # built from the tickets and events alone
    assert {words: refs(history, words) for words in wanted} == wanted
    assert refs(history, "merchant") == []


def test_similar_tickets_are_earlier_ones_of_the_same_council_or_category(synced: Engine) -> None:
    with unit_of_work(synced) as session:
        def open_(council: str, title: str, minutes: int) -> TicketRow:
            return tickets.open_ticket(session, council_id=council, title=title, actor="U0X",
                                       at=MONDAY + timedelta(minutes=minutes))

        # the test playbook's rule puts "cannot take (card) payments" in category `payments`
        open_("cherwell", "Kiosk receipts are blank", 0)  # CHW-1: same council, no category
        fife = open_("fife", "We cannot take card payments at the kiosk", 1)  # FIFE-1: same category
        open_("belfast", "Kiosk screen is blank, card payments stuck", 2)  # BEL-1: neither council nor category
        open_("cherwell", "Holiday rota question", 3)  # CHW-2: nothing in common
        current = open_("cherwell", "We cannot take card payments at the kiosk again", 4)  # CHW-3
        open_("cherwell", "We cannot take card payments at the kiosk once more", 5)  # CHW-4: later
        found = [t.ref for t in search.similar(session, current)]
        categories = (fife.category, current.category)
    assert categories == ("payments", "payments")
    assert found == ["FIFE-1", "CHW-1"]  # most alike first; BEL-1 shares words but neither council nor category


def test_stopwords_do_not_narrow_a_search_on_either_database(history: Engine) -> None:
    assert refs(history, "the refund for them") == refs(history, "refund") == ["CHW-1"]
