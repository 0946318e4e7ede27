"""Saved replies on Slack: the card's "Reply with…" menu, the modal that shows a reply filled in for
editing, and the message desk posts in the council's thread when it is sent.

The menu is its own function (`reply_select`), placed by `cards.card_actions` on an open ticket's card
when there are saved replies; its option values are reply ids, the ticket comes from the card (the actions
block id). The modal's text box holds the reply as a person reads it (a text input's `initial_value` is
never parsed); what the engineer submits is escaped when it is posted, like any text people typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, StaticSelectElement

from desk.domain.saved_replies import BODY_MAX
from desk.services.read_models import TicketSummary
from desk.slack.blocks import FALLBACK_LENGTH, PLACEHOLDER_MAX, SECTION_MAX, Message, facts, kit, modals
from desk.slack.blocks.text import clip, escape, person_text
from desk.slack.ids import Action
from desk.slack.ids import Block as BlockId
from desk.slack.ids import View as ViewId
from desk.slack.metadata import SavedReplyContext

OPTIONS_MAX = 100  # Slack's limit on a static select's options
REPLY_MAX = 2900  # what the engineer may send: one section block, with room for escaping to grow a little


def reply_select(replies: Sequence[tuple[str, str]]) -> StaticSelectElement:
    """(reply id, title) of the current saved replies, as the card's "Reply with…" menu."""
    return StaticSelectElement(
        action_id=str(Action.REPLY_WITH),
        placeholder=kit.plain("Reply with…", PLACEHOLDER_MAX),
        options=[kit.option(title, reply_id) for reply_id, title in replies[:OPTIONS_MAX]],
    )


def reply_modal(t: TicketSummary, context: SavedReplyContext, title: str, text: str) -> dict[str, Any]:
    """The reply filled in for `t`, editable; submitting posts it in the council's thread."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}\n{facts.council(t)} · saved reply: {person_text(title, 80)}"),
        modals.text_input(BlockId.REPLY, "Reply to the council", max(REPLY_MAX, BODY_MAX), initial=text,
                          multiline=True,
                          hint="Posted in the council's thread as the support team's reply (it meets the "
                               "respond target). Edit it as you need first."),
    ]
    return modals.modal(ViewId.SAVED_REPLY, f"Reply to {t.ref}", "Send reply", blocks, context.dump())


def posted_reply(t: TicketSummary, text: str, engineer: str | None) -> Message:
    """The reply in the council's thread: the engineer's words, escaped (people's text), and who sent it."""
    words = person_text(text, SECTION_MAX)
    who = f"{escape(engineer)}, support team" if engineer else "The support team"
    return Message(text=clip(f"{t.ref}: {words}", FALLBACK_LENGTH),
                   blocks=kit.dicts([kit.section(words), kit.context(f"{who} · {t.ref}")]))
