"""A problem update in one linked ticket's council thread (the outbox's `problem_post`, written by
`services.problems.update_problem`, one row per update × ticket).

The words are read at send time from the ticket's own `replied` event (`problems.thread_post`), and the
message names only the problem's ref: never its title (an engineer's working title may name councils),
never another council or ticket.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.observability import logs
from desk.services import problems
from desk.services.problem_views import ThreadPost
from desk.slack.blocks import SECTION_MAX, Message
from desk.slack.blocks.kit import context, dicts, section
from desk.slack.blocks.text import person_text
from desk.slack.deps import Deps

KIND = problems.POST_KIND
HEADLINE = "Update on a known problem affecting the service"


def thread_update(post: ThreadPost) -> Message:
    """The update as the council reads it: a headline, the engineer's words (escaped), the problem's ref."""
    words = person_text(post.text, SECTION_MAX - len(HEADLINE) - 8)
    blocks = [section(f"*{HEADLINE}*\n{words}"),
              context(f"Known problem {post.problem_ref} · your ticket {post.ref}")]
    return Message(text=f"{HEADLINE}: {person_text(post.text, 200)}", blocks=dicts(blocks))


def deliver(client: WebClient, deps: Deps, payload: dict[str, Any]) -> str | None:
    """Post one update in its ticket's council thread (top level in the council's channel while the
    ticket has no thread yet); raises what the Web API raises, for the dispatcher to judge."""
    with logs.bind(ticket=payload.get("ref")), unit_of_work(deps.engine) as session:
        post = problems.thread_post(session, payload)
    extra = {"thread_ts": post.thread_ts} if post.thread_ts else {}
    posted = client.chat_postMessage(channel=post.channel, **extra, **thread_update(post).post_kwargs())
    return str(posted["ts"])


def render(notifier, item) -> str | None:
    """The worker's notifier takes it through its renderers (desk/wiring.py), like the digests."""
    return deliver(notifier.client, notifier.deps, item.payload)
