"""Modals: the intake form, the two engineer forms that need more than a click (priority, resolve), and
the council's "Not fixed" form.

Inputs are read back by `Block` id then `Input.VALUE`. `private_metadata` carries a typed value (`.dump()`)
naming what the form is about; it is a reference, never authority: the submit handler re-checks who may act.
A text input's `initial_value` is the one place people's text goes to Slack unescaped: it is the editable
value of the field itself, shown as typed and never parsed as mrkdwn.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from desk.services.read_models import TicketSummary
from desk.slack.blocks import MODAL_TITLE_MAX, OPTION_VALUE_MAX, PLACEHOLDER_MAX, facts, kit
from desk.slack.blocks.text import one_line, shorten
from desk.slack.ids import Block as BlockId
from desk.slack.ids import Input
from desk.slack.ids import View as ViewId
from desk.slack.metadata import IntakeContext, TicketRef

TITLE_MAX = 200
DESCRIPTION_MAX = 3000
REASON_MAX = 500
RESOLUTION_MAX = 2000
NEEDED_MAX = 1500
LABEL_MAX = 2000
BUTTON_LABEL_MAX = 24  # a modal's submit / close
SELECT_OPTIONS_MAX = 100

IMPACT = (
    ("high", "High", "Residents can't pay, or a whole service is down"),
    ("medium", "Medium", "Some payments or one process affected"),
    ("low", "Low", "An inconvenience, a question or a report"),
)
URGENCY = (
    ("high", "High", "It's stopping work right now"),
    ("medium", "Medium", "Needed today or tomorrow"),
    ("low", "Low", "It can wait a few days"),
)


def intake(categories: list[str], context: IntakeContext, *, title: str = "",
           description: str = "") -> dict[str, Any]:
    """The new-request form (`/desk`, App Home, the message shortcut prefills title and description).

    No council field: the council is whoever is asking, decided from the actor, never from the form.
    Impact and urgency are optional; triage rules and the playbook matrix fill the gaps.
    """
    blocks: list[Block] = [
        text_input(BlockId.TITLE, "Title", TITLE_MAX, initial=one_line(title),
                    placeholder="e.g. Card payments failing at the contact centre"),
        text_input(BlockId.DESCRIPTION, "Description", DESCRIPTION_MAX, initial=description, multiline=True,
                    optional=True, placeholder="What happened, since when, who is affected, any error text"),
    ]
    choices = _category_options(categories)
    if choices:
        blocks.append(_select(BlockId.CATEGORY, "Category", choices, optional=True))
    blocks.append(_select(BlockId.IMPACT, "Impact", _choices(IMPACT), optional=True,
                          hint="How many people or payments are affected."))
    blocks.append(_select(BlockId.URGENCY, "Urgency", _choices(URGENCY), optional=True,
                          hint="How soon it needs fixing."))
    return modal(ViewId.INTAKE, "New request", "Submit", blocks, context.dump())


def priority(t: TicketSummary, priorities: list[tuple[str, str]]) -> dict[str, Any]:
    """Change a ticket's priority, with the reason the event log and the council digest will show.

    `priorities` are the playbook's `(code, name)` pairs; the current one is preselected.
    """
    choices = [kit.option(f"{code} {name}", code) for code, name in priorities
               if 0 < len(code) <= OPTION_VALUE_MAX][:SELECT_OPTIONS_MAX]
    if not choices:  # Slack refuses an empty select: offer at least the current priority
        choices = [kit.option(f"{t.priority} {t.priority_name}", t.priority[:OPTION_VALUE_MAX])]
    initial = next((choice for choice in choices if choice.value == t.priority), None)
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}\nNow {facts.priority_label(t)}."),
        _select(BlockId.PRIORITY, "Priority", choices, initial=initial),
        text_input(BlockId.REASON, "Reason", REASON_MAX, multiline=True,
                    placeholder="Why the change: it is recorded in the ticket's history"),
    ]
    return modal(ViewId.PRIORITY, "Change priority", "Change", blocks, TicketRef(ref=t.ref).dump())


def resolve(t: TicketSummary) -> dict[str, Any]:
    """Resolve with a note: the council reads it in their thread, so a note is required."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}\n{facts.council(t)}"),
        text_input(BlockId.RESOLUTION, "Resolution note", RESOLUTION_MAX, multiline=True,
                    placeholder="What was wrong and what we did",
                    hint="The council sees this in their thread, with a request to rate our help."),
    ]
    return modal(ViewId.RESOLVE, f"Resolve {t.ref}", "Resolve", blocks, TicketRef(ref=t.ref).dump())


def edit_resolution(t: TicketSummary, note: str) -> dict[str, Any]:
    """A resolved ticket's note, to change (a resolution by reaction carries a default note)."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}\n{facts.council(t)}"),
        text_input(BlockId.RESOLUTION, "Resolution note", RESOLUTION_MAX, initial=note, multiline=True,
                   hint="The council's resolution message in their thread is updated to say this."),
    ]
    return modal(ViewId.EDIT_RESOLUTION, f"Edit note {t.ref}", "Save note", blocks, TicketRef(ref=t.ref).dump())


def not_fixed(t: TicketSummary) -> dict[str, Any]:
    """The council's "Not fixed": what is still wrong. It reopens the ticket with these words."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}"),
        text_input(BlockId.REASON, "What is still wrong?", REASON_MAX, multiline=True,
                    placeholder="e.g. Card payments still fail at the Banbury counter",
                    hint="This reopens the ticket; the support team sees your words."),
    ]
    return modal(ViewId.NOT_FIXED, f"Not fixed: {t.ref}", "Reopen", blocks, TicketRef(ref=t.ref).dump())


def waiting(t: TicketSummary) -> dict[str, Any]:
    """Put a ticket in "waiting on council": what support needs from them, which they read in their thread."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}\n{facts.council(t)}"),
        text_input(BlockId.NEEDED, "What do you need from the council?", NEEDED_MAX, multiline=True,
                    placeholder="e.g. a screenshot of the error and the time it happened",
                    hint="The council sees this in their thread. The time to resolve pauses until they reply."),
    ]
    return modal(ViewId.WAITING, "Waiting on council", "Ask", blocks, TicketRef(ref=t.ref).dump())


def _choices(choices: tuple[tuple[str, str, str], ...]) -> list[Option]:
    return [kit.option(label, value, description) for value, label, description in choices]


def _category_options(categories: list[str]) -> list[Option]:
    """Playbook categories as options; each value must round-trip exactly, so over-long ones are left out."""
    seen: set[str] = set()
    options: list[Option] = []
    for category in categories:
        if category and len(category) <= OPTION_VALUE_MAX and category not in seen:
            seen.add(category)
            options.append(kit.option(category.replace("_", " ").capitalize(), category))
    return options[:SELECT_OPTIONS_MAX]


def text_input(block_id: str, label: str, max_length: int, *, initial: str = "", multiline: bool = False,
                optional: bool = False, placeholder: str | None = None,
                hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=str(block_id),
        label=kit.plain(label, LABEL_MAX),
        element=PlainTextInputElement(
            action_id=str(Input.VALUE),
            multiline=multiline,
            max_length=max_length,
            # Slack refuses an initial value longer than the field allows, or an empty one.
            initial_value=shorten(initial, max_length) if initial.strip() else None,
            placeholder=kit.plain(placeholder, PLACEHOLDER_MAX) if placeholder else None,
        ),
        optional=optional,
        hint=kit.plain(hint, LABEL_MAX) if hint else None,
    )


def _select(block_id: str, label: str, options: list[Option], *, optional: bool = False,
            initial: Option | None = None, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=str(block_id),
        label=kit.plain(label, LABEL_MAX),
        element=StaticSelectElement(
            action_id=str(Input.VALUE),
            placeholder=kit.plain("Choose…", PLACEHOLDER_MAX),
            options=options,
            initial_option=initial,
        ),
        optional=optional,
        hint=kit.plain(hint, LABEL_MAX) if hint else None,
    )


def modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=str(callback_id),
        title=kit.plain(title, MODAL_TITLE_MAX),
        submit=kit.plain(submit, BUTTON_LABEL_MAX),
        close=kit.plain("Cancel", BUTTON_LABEL_MAX),
        blocks=blocks,
        private_metadata=metadata,
    )
    return view.to_dict()

