"""replies.yaml's rules: only `{{ placeholder }}`, each a known one, every problem named with its reply."""

from __future__ import annotations

from datetime import date

import pytest

from desk.domain.playbook_schema import parse_documents
from desk.domain.saved_replies import Placeholder, spoken_day, spoken_within, template_problems
from desk.errors import PlaybookInvalid
from tests.conftest import TEST_PLAYBOOKS


def documents(replies: str) -> dict[str, str]:
    found = {path.name: path.read_text() for path in TEST_PLAYBOOKS.glob("*.yaml")}
    return {**found, "replies.yaml": replies}


def test_a_good_file_loads_its_replies_and_placeholders() -> None:
    loaded = parse_documents(documents(
        "replies:\n  - id: hello\n    title: Hello\n    body: 'Hi {{requester}}, {{ ref }} for {{ council }}.'\n"))
    assert list(loaded.replies) == ["hello"]
    assert loaded.replies["hello"].placeholders == (Placeholder.REQUESTER, Placeholder.REF, Placeholder.COUNCIL)
    assert "hello" not in loaded.playbooks  # replies.yaml is not a playbook


@pytest.mark.parametrize(("body", "expected"), [
    ("Hi {{ name }}", "unknown placeholder {{ name }}"),
    ("{% for x in y %}{% endfor %}", "'{% for x in y %}{% endfor %}' is not a placeholder"),
    ("{{ ref | upper }}", "'{{ ref | upper }}' is not a placeholder"),
    ("{{ ref.__class__ }}", "'{{ ref.__class__ }}' is not a placeholder"),
    ("{# a comment #}", "'{# a comment #}' is not a placeholder"),
])
def test_anything_but_a_known_placeholder_is_named(body: str, expected: str) -> None:
    problems = template_problems(body)
    assert problems and problems[0].startswith(expected), problems


def test_the_whole_directory_is_refused_with_every_problem() -> None:
    text = ("replies:\n"
            "  - id: a\n    title: A\n    body: '{{ council }} {{ councl }}'\n"
            "  - id: a\n    title: Again\n    body: fine\n"
            "  - id: Bad Id\n    title: ''\n    body: x\n    extra: 1\n")
    with pytest.raises(PlaybookInvalid) as raised:
        parse_documents(documents(text))
    lines = [str(p) for p in raised.value.problems]
    assert any(line.startswith('replies.yaml: replies[0].body: reply "a": unknown placeholder {{ councl }}')
               for line in lines), lines
    assert any(line.startswith('replies.yaml: replies[1]: reply "a" is declared twice') for line in lines), lines
    assert any(line.startswith("replies.yaml: replies[2].id:") for line in lines), lines
    assert any(line.startswith("replies.yaml: replies[2].title:") for line in lines), lines
    assert any(line.startswith("replies.yaml: replies[2].extra: unknown key") for line in lines), lines


def test_how_days_and_targets_are_said() -> None:
    assert spoken_day(date(2026, 1, 6)) == "Tuesday 6 January"
    assert spoken_within(3600, working=True) == "1 working hour"
    assert spoken_within(8 * 3600, working=True) == "8 working hours"
    assert spoken_within(30 * 60, working=False) == "30 minutes"
    assert spoken_within(90 * 60, working=False) == "1 hour 30 minutes"
