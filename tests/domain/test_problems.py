"""Problem rules: the status machine, refs, match phrases and what councils are told."""

from __future__ import annotations

import pytest

from desk.domain.problems import (
    MatchRule,
    NewTicket,
    ProblemStatus,
    can_move,
    clean_phrases,
    first_match,
    matches,
    parse_ref,
    public_text,
    resolve_allowed,
    status_after_workaround,
)

S = ProblemStatus


def test_open_statuses_move_freely_and_resolved_is_final() -> None:
    assert can_move(S.INVESTIGATING, S.KNOWN_ERROR)
    assert can_move(S.MONITORING, S.INVESTIGATING)  # the fix did not hold
    assert not can_move(S.INVESTIGATING, S.INVESTIGATING)
    assert not can_move(S.MONITORING, S.RESOLVED)  # only by resolving, which resolves the tickets too
    assert not any(can_move(S.RESOLVED, other) for other in S)
    assert resolve_allowed(S.MONITORING) and not resolve_allowed(S.RESOLVED)
    assert S.KNOWN_ERROR.label == "known error"


def test_a_workaround_makes_an_early_problem_a_known_error_unless_a_status_was_chosen() -> None:
    assert status_after_workaround(S.INVESTIGATING, None) is S.KNOWN_ERROR
    assert status_after_workaround(S.IDENTIFIED, None) is S.KNOWN_ERROR
    assert status_after_workaround(S.MONITORING, None) is None
    assert status_after_workaround(S.INVESTIGATING, S.MONITORING) is S.MONITORING


@pytest.mark.parametrize("value,expected", [("PRB-3", 3), ("prb-12", 12), (" 7 ", 7), (4, 4), ("PRB3", 3),
                                            ("PRB-0", None), ("CHW-3", None), ("", None), (-1, None)])
def test_refs(value, expected) -> None:
    assert parse_ref(value) == expected


def test_phrases_are_cleaned_and_bounded() -> None:
    assert clean_phrases(["  GOV.UK   Pay ", "gov.uk pay", "", "Timeout"]) == ("gov.uk pay", "timeout")
    with pytest.raises(ValueError, match="at most 100 characters"):
        clean_phrases(["x" * 101])
    with pytest.raises(ValueError, match="at most 20"):
        clean_phrases([f"p{i}" for i in range(21)])


def ticket(text: str, rule: str | None = None, category: str | None = "payments") -> NewTicket:
    return NewTicket(text, rule, category)


def test_a_phrase_matches_whole_words_whatever_the_case_and_punctuation() -> None:
    rule = MatchRule(1, ("gov.uk pay",), category="payments")
    assert matches(rule, ticket("GOV.UK Pay is timing out!"))
    assert matches(rule, ticket("Card payments: gov.uk  pay errors since 9am"))
    assert not matches(rule, ticket("The pay run failed"))
    assert not matches(MatchRule(1, ("pay",)), ticket("payroll export broken"))


def test_the_rule_or_category_must_agree_when_the_problem_names_one() -> None:
    by_category = MatchRule(1, ("timeout",), category="payments")
    assert not matches(by_category, ticket("a timeout", category="reporting"))
    by_rule = MatchRule(1, ("timeout",), triage_rule="cannot-take-payments")
    assert matches(by_rule, ticket("a timeout", rule="cannot-take-payments", category="other"))
    assert not matches(by_rule, ticket("a timeout", rule="report-request"))
    anywhere = MatchRule(1, ("timeout",))
    assert matches(anywhere, ticket("a timeout", category=None))


def test_a_problem_without_phrases_links_nothing_by_itself() -> None:
    assert not matches(MatchRule(1, (), category="payments"), ticket("anything at all"))


def test_the_first_matching_problem_wins() -> None:
    rules = [MatchRule(5, ("bacs",)), MatchRule(2, ("gov.uk pay",)), MatchRule(1, ("pay",))]
    assert first_match(rules, ticket("GOV.UK Pay down")) == 2
    assert first_match(rules, ticket("nothing relevant")) is None


def test_what_councils_are_told() -> None:
    assert public_text(text=None, workaround=None, status=None) is None
    assert public_text(text="  ", workaround=None, status=None) is None
    assert public_text(text=None, workaround=None, status=S.MONITORING) == "Status: monitoring."
    said = public_text(text="A fix is out.", workaround="Take payments by phone.", status=S.KNOWN_ERROR)
    assert said == "A fix is out.\n\nWorkaround: Take payments by phone.\n\n(Status: known error.)"
