"""Problems: one fault behind many councils' tickets (pure rules; docs/problems.md).

A problem lives in the support team's space. Its status follows ITIL's problem record:

    investigating → identified → known error (a workaround exists) → monitoring → resolved

Engineers move freely between the open statuses (an investigation can go back a step); `resolved` is
reached only by resolving the problem, which resolves its open tickets with it, and it is final: a fault
that comes back is a new problem, so the first one's resolution times stay true.

Matching at intake: an open problem with `match` phrases takes a new ticket when the ticket's triage rule or
category is the problem's (when the problem has one) and the ticket's words contain one of the phrases.
A problem without phrases never links anything by itself: an engineer links by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

MATCH_PHRASES_MAX = 20
PHRASE_MAX = 100
REF_PREFIX = "PRB"


class ProblemStatus(StrEnum):
    INVESTIGATING = "investigating"  # something is wrong; the cause is not known yet
    IDENTIFIED = "identified"  # the cause is known; no way round it yet
    KNOWN_ERROR = "known_error"  # a workaround exists, and councils have been given it
    MONITORING = "monitoring"  # a fix is out; watching that it holds
    RESOLVED = "resolved"  # fixed: the problem's open tickets were resolved with it (final)

    @property
    def label(self) -> str:
        """How councils and engineers read it."""
        return self.value.replace("_", " ")

    @property
    def is_open(self) -> bool:
        return self is not ProblemStatus.RESOLVED


OPEN_PROBLEM_STATUSES = frozenset(s for s in ProblemStatus if s.is_open)


class LinkHow(StrEnum):
    """How a ticket came to be linked to a problem."""

    ORIGIN = "origin"  # the problem was started from this ticket
    MANUAL = "manual"  # an engineer linked it (the card's "Link to problem", `/desk problem link`)
    AUTO = "auto"  # intake matched it to an open problem (the council was told it is a known problem)


def can_move(current: ProblemStatus, wanted: ProblemStatus) -> bool:
    """Between open statuses, any way; to `resolved` only through resolving (`resolve_allowed`)."""
    return current.is_open and wanted.is_open and current is not wanted


def resolve_allowed(current: ProblemStatus) -> bool:
    return current.is_open


def status_after_workaround(current: ProblemStatus, wanted: ProblemStatus | None) -> ProblemStatus | None:
    """A workaround given while investigating or identified makes the problem a known error, unless the
    engineer chose a status in the same update."""
    if wanted is not None:
        return wanted
    if current in (ProblemStatus.INVESTIGATING, ProblemStatus.IDENTIFIED):
        return ProblemStatus.KNOWN_ERROR
    return None


def problem_ref(problem_id: int) -> str:
    return f"{REF_PREFIX}-{problem_id}"


def parse_ref(value: str | int) -> int | None:
    """`PRB-3`, `prb-3`, `3` or 3 → 3; None for anything else."""
    if isinstance(value, int):
        return value if value > 0 else None
    found = re.fullmatch(rf"\s*(?:{REF_PREFIX}-?)?(\d+)\s*", value, flags=re.IGNORECASE)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def clean_phrases(phrases: Iterable[str]) -> tuple[str, ...]:
    """Match phrases as stored: trimmed, lower case, no blanks or repeats; a ValueError names the bad one."""
    out: list[str] = []
    for phrase in phrases:
        cleaned = " ".join(str(phrase).split()).lower()
        if not cleaned:
            continue
        if len(cleaned) > PHRASE_MAX:
            raise ValueError(f"a match phrase is at most {PHRASE_MAX} characters: {cleaned[:30]!r}…")
        if cleaned not in out:
            out.append(cleaned)
    if len(out) > MATCH_PHRASES_MAX:
        raise ValueError(f"at most {MATCH_PHRASES_MAX} match phrases")
    return tuple(out)


@dataclass(frozen=True)
class MatchRule:
    """What an open problem takes at intake."""

    problem_id: int
    phrases: Sequence[str]
    triage_rule: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class NewTicket:
    text: str  # title and description
    triage_rule: str | None
    category: str | None


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9.]+", text.lower())) + " "


def matches(rule: MatchRule, ticket: NewTicket) -> bool:
    """The same triage rule or category (when the problem names either), and one phrase in the words.

    Phrases match whole words, case and punctuation aside: "gov.uk pay" matches "GOV.UK Pay is down!"
    but "pay" does not match "payroll"."""
    if not rule.phrases:
        return False
    if rule.triage_rule or rule.category:
        same_rule = rule.triage_rule is not None and rule.triage_rule == ticket.triage_rule
        same_category = rule.category is not None and rule.category == ticket.category
        if not (same_rule or same_category):
            return False
    words = _words(ticket.text)
    return any(_words(phrase) in words for phrase in rule.phrases)


def first_match(rules: Iterable[MatchRule], ticket: NewTicket) -> int | None:
    """The problem a new ticket belongs to: the first matching rule (the caller orders them, newest
    activity first), or None."""
    return next((rule.problem_id for rule in rules if matches(rule, ticket)), None)


def public_text(*, text: str | None, workaround: str | None, status: ProblemStatus | None) -> str | None:
    """What an update says in each linked ticket's council thread, or None when it says nothing to
    councils (an owner, title or match change). Only what the engineer wrote and the status: never which
    other councils or tickets share the problem."""
    parts = []
    if text and text.strip():
        parts.append(text.strip())
    if workaround and workaround.strip():
        parts.append(f"Workaround: {workaround.strip()}")
    if status is not None and not parts:
        parts.append(f"Status: {status.label}.")
    elif status is not None:
        parts.append(f"(Status: {status.label}.)")
    return "\n\n".join(parts) if parts else None
