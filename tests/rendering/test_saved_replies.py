"""A saved reply filled in: values escaped for mrkdwn, plain for editing; the sandbox as a second wall."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from desk.domain.saved_replies import Placeholder, SavedReply
from desk.rendering.saved_replies import fill


def test_values_are_escaped_in_the_mrkdwn_and_kept_as_written_for_editing() -> None:
    reply = SavedReply("x", "X", "Hello {{ requester }} at {{ council }} & <team>, about {{ ref }}.")
    filled = fill(reply, {Placeholder.REQUESTER: "<!channel>", Placeholder.COUNCIL: "A & B <@U0X>",
                          Placeholder.REF: "CHW-1"})
    assert filled.text == "Hello <!channel> at A & B <@U0X> & <team>, about CHW-1."
    assert filled.mrkdwn == "Hello &lt;!channel&gt; at A &amp; B &lt;@U0X&gt; &amp; &lt;team&gt;, about CHW-1."


def test_a_missing_value_is_refused_not_left_blank() -> None:
    with pytest.raises(ValueError, match="no value for ref"):
        fill(SavedReply("x", "X", "About {{ ref }}"), {})


def test_a_body_past_the_check_still_cannot_reach_inside_python() -> None:
    unchecked = SavedReply("x", "X", "{{ ref.__class__.__mro__ }}")  # validation would refuse this body
    with pytest.raises(SecurityError):
        fill(unchecked, {Placeholder.REF: "CHW-1"})
