"""text.py: Slack's escaping rule, shortening that never breaks an entity, mentions only for ids, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.slack.blocks.text import clip, escape, local_time, person_text, relative, shorten, user

ENTITY = re.compile(r"&(amp|lt|gt);")


def unescape(text: str) -> str:
    return ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def test_escape_replaces_only_ampersand_and_angle_brackets() -> None:
    assert escape("a & b < c > d \"e\" 'f' *g*") == "a &amp; b &lt; c &gt; d \"e\" 'f' *g*"
    assert escape("&lt;") == "&amp;lt;"  # an entity someone typed is shown as typed, not decoded


@given(st.text())
def test_escape_round_trips(text: str) -> None:
    assert unescape(escape(text)) == text
    assert "<" not in escape(text) and ">" not in escape(text)


@given(st.text(alphabet=st.sampled_from("a&<> é\n"), max_size=60), st.integers(min_value=1, max_value=80))
def test_person_text_is_bounded_escaped_and_never_cuts_an_entity(text: str, limit: int) -> None:
    shown = person_text(text, limit)
    assert len(shown) <= limit
    assert "<" not in shown and ">" not in shown
    assert all(ENTITY.match(shown, m.start()) for m in re.finditer("&", shown)), shown
    if shown != escape(text):  # shortened: a prefix of what was typed, then the ellipsis
        assert shown.endswith("…") and text.startswith(unescape(shown[:-1]))


def test_person_text_counts_the_escaped_form() -> None:
    assert person_text("&&&&", 12) == "&amp;&amp;…"
    assert person_text("a<b", 5) == "a…"  # "a&lt;b" is 6 long; cutting to "a&lt" would break the entity
    assert person_text("short", 10) == "short"


def test_clip_keeps_desks_own_mentions_whole() -> None:
    assert clip("see <@U0ENGINEER> now", 10) == "see…"


def test_shorten_is_for_plain_text_and_does_not_escape() -> None:
    assert shorten("a & b", 10) == "a & b"
    assert shorten("x" * 100, 75) == "x" * 74 + "…"
    assert len(shorten("y" * 10_000, 24)) == 24


@pytest.mark.parametrize("user_id", ["U0ENGINEER", "W012ABC", "U12"])
def test_user_mentions_slack_ids(user_id: str) -> None:
    assert user(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize("typed", ["<@U123>", "u123", "U1", "Jo <!channel>", "U12 3", "S0TEAM", "@here"])
def test_user_shows_anything_else_as_escaped_text(typed: str) -> None:
    assert user(typed) == escape(typed)


def test_local_time_in_the_councils_zone_with_year_only_when_it_differs() -> None:
    winter = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 6, 9, 30, tzinfo=UTC)
    assert local_time(winter, "Europe/London") == "Mon 5 Jan 10:00"
    assert local_time(summer, "Europe/London") == "Mon 6 Jul 10:30"  # BST
    assert local_time(winter, "Europe/London", now=winter) == "Mon 5 Jan 10:00"
    last_year = datetime(2025, 12, 30, tzinfo=UTC)
    assert local_time(winter, "Europe/London", now=last_year) == "Mon 5 Jan 2026 10:00"
    assert local_time(winter, "Not/AZone") == "Mon 5 Jan 10:00"  # falls back to UTC rather than failing


@pytest.mark.parametrize(("offset", "shown"), [
    (timedelta(hours=2, minutes=15), "in 2h 15m"),
    (timedelta(minutes=-45), "45m ago"),
    (timedelta(hours=3), "in 3h"),
    (timedelta(days=2, hours=4, minutes=59), "in 2d 4h"),
    (timedelta(days=-1), "1d ago"),
    (timedelta(seconds=30), "now"),
    (timedelta(seconds=-59), "now"),
])
def test_relative(offset: timedelta, shown: str) -> None:
    now = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert relative(now + offset, now) == shown
