"""What desk says in a council thread as a ticket's life moves on: reopened, closed, a follow-up opened.

Council staff read these in a Slack Connect channel: short, plain, and each says what happens next. The
links are Slack's own permalinks (never text people typed); refs are desk's.
"""

from __future__ import annotations

from datetime import datetime

from desk.services.read_models import TicketSummary
from desk.slack.blocks import FALLBACK_LENGTH, Message, kit
from desk.slack.blocks.text import clip, local_time


def reopened(t: TicketSummary, now: datetime) -> Message:
    """The ticket is back with support (the council said it is not fixed, or replied after resolution)."""
    said = f":leftwards_arrow_with_hook: *{t.ref}* is reopened and back with the support team."
    if t.resolve.due_at is not None and t.resolve.stopped_at is None:
        said += f" We aim to resolve it by {local_time(t.resolve.due_at, t.timezone, now)}."
    return _message(said, "Reply here with anything that helps: it reaches the engineer working on it.")


def closed(t: TicketSummary) -> Message:
    said = f":lock: *{t.ref}* is now closed."
    return _message(said, "Need anything more on this? Reply here and we'll open a follow-up ticket.")


def follow_up_opened(closed_ref: str, follow_up: TicketSummary, thread_url: str | None) -> Message:
    """In the closed ticket's thread: where its follow-up lives."""
    said = f":ticket: {closed_ref} is closed, so we've opened *{follow_up.ref}* as a follow-up for your message."
    return _message(said, _continues(thread_url))


def added_to_follow_up(closed_ref: str, follow_up: TicketSummary, thread_url: str | None) -> Message:
    """In the closed ticket's thread: a later message went to its open follow-up, not a new ticket."""
    said = f":ticket: Added to *{follow_up.ref}*, the follow-up to {closed_ref}."
    return _message(said, _continues(thread_url))


def _continues(thread_url: str | None) -> str:
    if thread_url:
        return f"It continues <{thread_url}|in its own thread>; replies there reach the support team."
    return "It continues in its own thread in this channel; replies there reach the support team."


def _message(said: str, next_step: str) -> Message:
    fallback = clip(said.replace("*", ""), FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts([kit.section(said), kit.context(next_step)]))
