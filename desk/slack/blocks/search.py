"""What `/desk search` answers, and the triage card's "Similar tickets".

Hits are `TicketSummary`s, so each line is the same as `/desk list`'s: ref, priority, status, (council, for
support,) title and where its SLA stands. Titles are people's words: escaped like everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from desk.services.read_models import TicketSummary
from desk.services.search import SimilarTicket
from desk.slack.blocks import FALLBACK_LENGTH, Message, facts, kit
from desk.slack.blocks.replies import LIST_LENGTH, list_line
from desk.slack.blocks.text import clip, person_text

QUERY_LENGTH = 100
SIMILAR_TITLE_LENGTH = 80


def results(query: str, hits: Sequence[TicketSummary], now: datetime, *, council_name: str | None) -> Message:
    """`/desk search WORDS`: best match first. `council_name` for a council's member (only its tickets were
    searched, and the answer says so); None for support (every council, each line naming its council)."""
    said = person_text(" ".join(query.split()), QUERY_LENGTH)
    where = f"{person_text(council_name, 100)}'s tickets" if council_name else "every council's tickets"
    if not hits:
        empty = f"No tickets found for “{said}” in {where}."
        return Message(text=clip(empty, FALLBACK_LENGTH), blocks=kit.dicts([
            kit.section(empty),
            kit.context("Every word must appear in a title, a description or a reply. Try fewer words.")]))
    shown = list(hits)[:LIST_LENGTH]
    heading = f"*Search: “{said}”* ({len(shown)}{'+' if len(hits) > len(shown) else ''}, best match first)"
    blocks: list[Block] = [kit.section(heading)]
    blocks += kit.sections(list_line(t, now, with_council=council_name is None) for t in shown)
    blocks.append(kit.context(f"Searched {where}: titles, descriptions and replies."))
    return Message(text=clip(f"Search: {said} ({len(shown)})", FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def similar_tickets(similar: Sequence[SimilarTicket]) -> Block | None:
    """The triage card's "Similar tickets": earlier tickets of the council or the category, found by the
    search index; None when there are none (the card says nothing rather than "none")."""
    if not similar:
        return None
    lines = [f"*{t.ref}* · {facts.status_label(t.status)} · {person_text(t.council_name, 60)} · "
             f"{person_text(t.title, SIMILAR_TITLE_LENGTH)}" for t in similar]
    return kit.context(":mag: *Similar tickets*", *lines)
