"""A playbook directory: every file together (ids, the registry, reading files), and the playbooks desk
ships with."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desk.domain.playbook import ClockKind, PlaybookSet
from desk.domain.playbook_schema import parse_documents
from desk.errors import PlaybookInvalid
from desk.services.playbook_files import load_directory, read_directory
from tests.domain.playbook_texts import (
    COUNCILS,
    PLAYBOOK,
    SHIPPED,
    directory_problems,
    edited,
)


def test_two_files_may_not_declare_one_playbook_id() -> None:
    problems = directory_problems({"a.yaml": PLAYBOOK, "b.yaml": PLAYBOOK, "councils.yaml": COUNCILS})
    assert problems == ['b.yaml: id: playbook "standard" is already declared by a.yaml']


def test_a_directory_needs_a_playbook_and_a_registry() -> None:
    assert directory_problems({"councils.yaml": COUNCILS}) == [
        'councils.yaml: councils[0].playbook: no playbook "standard" (known: none)',
        'councils.yaml: councils[1].playbook: no playbook "standard" (known: none)',
        "playbooks: no playbook: add one, e.g. standard.yaml",
    ]
    assert directory_problems({"standard.yaml": PLAYBOOK}) == [
        "councils.yaml: missing: the directory needs the councils registry"
    ]
    assert directory_problems({"standard.yaml": PLAYBOOK, "councils.yaml": COUNCILS, "councils.yml": COUNCILS}) == [
        "councils.yml: the registry is given twice: keep councils.yaml only"
    ]


def test_a_broken_directory_reports_every_problem_of_every_file() -> None:
    documents = {
        "standard.yaml": edited(PLAYBOOK, "respond: 1h,", "respond: 1x,"),
        "enhanced.yaml": edited(edited(PLAYBOOK, "id: standard", "id: enhanced"), "Europe/London", "Mars/Olympus"),
        "broken.yml": "id: [unclosed\n",
        "councils.yaml": edited(COUNCILS, "ref_prefix: FIFE", "ref_prefix: CHW"),
    }
    assert directory_problems(documents) == [
        "broken.yml: YAML syntax error at line 2, column 1: expected ',' or ']', but got '<stream end>'",
        "councils.yaml: councils[1].ref_prefix: ref prefix CHW is already used by councils[0] (cherwell)",
        'enhanced.yaml: calendar.timezone: "Mars/Olympus" is not a known time zone',
        'standard.yaml: priorities.P2.respond: "1x" is not a duration (use e.g. 30m, 4h, 1h30m)',
    ]


def test_a_good_directory_keeps_each_playbooks_source() -> None:
    enhanced = edited(PLAYBOOK, "id: standard", "id: enhanced")
    loaded = parse_documents({"standard.yaml": PLAYBOOK, "other.yml": enhanced, "councils.yaml": COUNCILS})
    assert loaded.sources == {"standard": PLAYBOOK, "enhanced": enhanced}
    assert [council.id for council in loaded.registry.councils] == ["cherwell", "fife"]
    assert loaded.council("fife").digest is None and loaded.council("cherwell").digest.time == 9 * 3600


def test_read_directory_reads_yaml_and_yml_sorted_and_skips_the_rest(tmp_path: Path) -> None:
    for name, text in {"b.yml": "b", "a.yaml": "a", "notes.txt": "x", ".#a.yaml": "lock"}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "old.yaml").mkdir()
    assert list(read_directory(tmp_path).items()) == [("a.yaml", "a"), ("b.yml", "b")]


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "standard.yaml").write_bytes(b"name: \xff\n")
    with pytest.raises(PlaybookInvalid) as raised:
        read_directory(tmp_path)
    assert str(raised.value) == "standard.yaml: is not UTF-8 text (invalid start byte at byte 6)"


def test_a_missing_directory_or_registry_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(PlaybookInvalid) as raised:
        load_directory(tmp_path / "nowhere")
    assert str(raised.value) == f"{tmp_path / 'nowhere'}: no such directory"
    (tmp_path / "standard.yaml").write_text(PLAYBOOK, encoding="utf-8")
    with pytest.raises(PlaybookInvalid) as raised:
        load_directory(tmp_path)
    assert str(raised.value) == "councils.yaml: missing: the directory needs the councils registry"


@pytest.fixture(scope="module")
def shipped() -> PlaybookSet:
    return load_directory(SHIPPED)


def test_the_shipped_playbooks_load_and_cover_every_division(shipped: PlaybookSet) -> None:
    loaded = shipped

    assert set(loaded.playbooks) == {"standard", "enhanced"}
    standard, enhanced = loaded.playbooks["standard"], loaded.playbooks["enhanced"]
    assert {target.clock for target in standard.priorities.values()} == {ClockKind.BUSINESS}
    assert enhanced.priorities["P1"].clock is ClockKind.ALWAYS
    for code, target in enhanced.priorities.items():
        assert target.respond_within < standard.priorities[code].respond_within
        assert target.resolve_within < standard.priorities[code].resolve_within
    assert {date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 31)} <= standard.calendar.closures
    divisions = {loaded.playbooks[c.playbook].calendar.with_division(c.division).division
                 for c in loaded.registry.councils}
    assert divisions == {"england-and-wales", "scotland", "northern-ireland"}


@pytest.mark.parametrize(
    ("request_text", "rule"),
    [
        ("We can't take card payments at the contact centre", "cannot-take-payments"),
        ("Payments are failing on the website", "cannot-take-payments"),
        ("GOV.UK Pay is down\nresidents get a 503 error", "govuk-pay-outage"),
        ("Direct debit run failed overnight", "direct-debit-run-failed"),
        ("BACS file rejected by the bank", "direct-debit-run-failed"),
        ("Resident charged twice for council tax", "duplicate-charge"),
        ("Daily reconciliation does not balance with the bank", "reconciliation-mismatch"),
        ("Refund stuck in pending", "refund-problem"),
        ("Payment not showing on the account", "payment-not-showing"),
        ("Password expired for a cashier", "locked-out"),
        ("Please set up a new user for our income team", "user-admin"),
        ("Report request: card payments by fund for March", "report-request"),
        ("Card number e-mailed to the team inbox", "card-data-exposed"),
        ("The cashing screen is very slow", "slow-system"),
        ("A question about the colour of receipts", None),
    ],
)
def test_the_shipped_rules_triage_typical_requests(
    shipped: PlaybookSet, request_text: str, rule: str | None
) -> None:
    playbook = shipped.playbooks["standard"]
    matched = next((r.name for r in playbook.rules if r.match.search(request_text)), None)
    assert matched == rule


def test_the_shipped_playbooks_share_their_triage_rules(shipped: PlaybookSet) -> None:
    standard, enhanced = shipped.playbooks["standard"].rules, shipped.playbooks["enhanced"].rules
    assert [(r.name, r.match.pattern) for r in standard] == [(r.name, r.match.pattern) for r in enhanced]
