"""The playbook and registry texts the schema tests edit (the DESIGN.md examples), and the helpers that
parse an edited text and return the `file: key: problem` lines it gives."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from desk.domain.playbook_schema import parse_documents, parse_playbook
from desk.errors import PlaybookInvalid

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"

PLAYBOOK = textwrap.dedent("""\
    id: standard
    name: Standard support
    calendar:
      timezone: Europe/London
      division: england-and-wales
      hours:
        mon-thu: ["09:00-12:30", "13:30-17:00"]
        fri: ["09:00-16:30"]
      closures: [2026-12-24, "2026-12-29"]
    priorities:
      P1: {name: Critical, respond: 30m, resolve: 4h, clock: 24x7}
      P2: {name: High, respond: 1h, resolve: 8h}
      P3: {name: Medium, respond: 4h, resolve: 24h}
      P4: {name: Low, respond: 8h, resolve: 80h}
    matrix:
      high:   {high: P1, medium: P2, low: P3}
      medium: {high: P2, medium: P3, low: P4}
      low:    {high: P3, medium: P4, low: P4}
    rules:
      - name: cannot-take-payments
        match: "(?i)(cannot|can't|unable to) take (card )?payments"
        set: {category: payments, impact: high, urgency: high}
    pause_on: [waiting_on_council]
    escalations:
      - {metric: respond, at: 75, notify: [triage]}
      - {metric: respond, at: 100, notify: [duty_lead]}
      - {metric: resolve, at: 75, notify: [assignee]}
      - {metric: resolve, at: 100, notify: [service_manager], repeat_every: 2h}
    """)

COUNCILS = textwrap.dedent("""\
    councils:
      - id: cherwell
        name: Cherwell District Council
        ref_prefix: CHW
        playbook: standard
        division: england-and-wales
        slack: {teams: [T0CHW00001], channels: [C0CHW00001]}
        digest: {channel: C0CHW00001, day: mon, time: "09:00"}
      - id: fife
        name: Fife Council
        ref_prefix: FIFE
        playbook: standard
        division: scotland
        slack: {teams: [T0FIF00001], channels: [C0FIF00001]}
    support:
      team: T0SUP00001
      triage_channel: C0TRI00001
      engineers: [S0ENG00001]
      duty_lead: U0DUT00001
      service_managers: [U0MGR00001]
    """)


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"fixture does not contain {old!r} exactly once"
    return text.replace(old, new)


def playbook_problems(text: str) -> list[str]:
    with pytest.raises(PlaybookInvalid) as raised:
        parse_playbook("standard.yaml", text)
    return [str(problem) for problem in raised.value.problems]


def directory_problems(documents: dict[str, str]) -> list[str]:
    with pytest.raises(PlaybookInvalid) as raised:
        parse_documents(documents)
    return [str(problem) for problem in raised.value.problems]


def registry_problems(councils: str) -> list[str]:
    return directory_problems({"standard.yaml": PLAYBOOK, "councils.yaml": councils})

