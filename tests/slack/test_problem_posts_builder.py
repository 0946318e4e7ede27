"""The problem update as a council reads it in its ticket's thread (desk/slack/problem_posts.py, core half):
the engineer's words escaped, the problem's ref and the council's own ticket, nothing else."""

from __future__ import annotations

from desk.services.problem_views import ThreadPost
from desk.slack.problem_posts import HEADLINE, thread_update


def post(text: str) -> ThreadPost:
    return ThreadPost(ref="CHW-4", channel="C0CHERWELL", thread_ts="1.1", problem_ref="PRB-2", text=text)


def test_the_update_is_escaped_and_names_only_the_problem_and_this_ticket() -> None:
    message = thread_update(post("Fixed <!channel> & <@U0BOSS> see <https://evil.example|here>"))
    body = message.blocks[0]["text"]["text"]
    assert body == (f"*{HEADLINE}*\nFixed &lt;!channel&gt; &amp; &lt;@U0BOSS&gt; see "
                    "&lt;https://evil.example|here&gt;")
    assert message.blocks[1]["elements"][0]["text"] == "Known problem PRB-2 · your ticket CHW-4"
    assert "<!channel>" not in message.text and "<@U0BOSS>" not in message.text
    assert message.post_kwargs()["unfurl_links"] is False


def test_a_long_update_fits_one_section() -> None:
    message = thread_update(post("word " * 1000))
    assert len(message.blocks[0]["text"]["text"]) <= 3000
    assert message.blocks[0]["text"]["text"].endswith("…")
