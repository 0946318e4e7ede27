"""Shared problems in Slack: the problem's own message in the triage channel, `/desk problem` answers, the
"Link to problem" and "New problem" modals, and the two things councils see (the known-problem notice in a
confirmation, and a broadcast).

Two audiences, kept apart by what each builder is given:
- the support team (`triage_message`, `problem_list`, `problem_detail`, the modals) sees everything: the
  problem's working title and every linked ticket, grouped by council;
- a council (`known_problem_lines`, `broadcast`) sees only what was written for councils: the summary,
  the status, the workaround and the latest public update. These builders take a `KnownProblem` (or its
  parts), which names no council and no ticket, so they cannot leak another council's ticket; the working
  title is never shown to a council either (it is the engineers' shorthand and may name councils).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from desk.services.problem_views import KnownProblem, LinkedTicket, ProblemSummary, ProblemView
from desk.slack.blocks import (
    FALLBACK_LENGTH,
    MESSAGE_MAX_BLOCKS,
    MODAL_TITLE_MAX,
    OPTION_VALUE_MAX,
    PLACEHOLDER_MAX,
    Message,
    facts,
    kit,
)
from desk.slack.blocks.text import clip, local_time, one_line, person_text, shorten, user
from desk.slack.ids import SLASH_COMMAND, Input
from desk.slack.ids import Block as BlockId
from desk.slack.ids import View as ViewId
from desk.slack.metadata import ProblemForm

ZONE = "Europe/London"  # the support team's own space: its times are shown in UK time
TITLE_LENGTH = 150
SUMMARY_LENGTH = 1500
UPDATE_LENGTH = 1500
TICKET_TITLE_LENGTH = 60
SUMMARY_MAX = 2000  # the modal's summary field
TITLE_MAX = 150
LABEL_MAX = 2000
BUTTON_LABEL_MAX = 24
SELECT_OPTIONS_MAX = 100
LIST_LENGTH = 20


def _status(label: str) -> str:
    return person_text(one_line(label), 40).capitalize()


def known_problem_lines(known: KnownProblem) -> list[str]:
    """The known-problem notice a council reads in its confirmation: that this is a known problem affecting
    the service, what it is (the summary written for councils), and the latest update. Safe mrkdwn."""
    lines = [f":large_yellow_circle: *This is a known problem affecting the service* ({_status(known.status_label)})"
             + (f": {person_text(known.summary, SUMMARY_LENGTH)}" if known.summary.strip() else
                ", and we're working on it.")]
    if known.workaround:
        lines.append(f"*Workaround:* {person_text(known.workaround, UPDATE_LENGTH)}")
    if known.latest_update:
        lines.append(f"*Latest update:* {person_text(known.latest_update, UPDATE_LENGTH)}")
    lines.append("We'll post every update in this thread, and tell you here when it is fixed.")
    return lines


def broadcast(known: KnownProblem) -> Message:
    """A problem's summary posted in a council's own channel (`/desk problem broadcast`): each council gets
    its own message, naming no other council and no ticket."""
    said = (f":large_yellow_circle: *Known problem affecting the service* ({_status(known.status_label)}): "
            f"{person_text(known.summary, SUMMARY_LENGTH)}")
    blocks: list[Block] = [kit.section(said)]
    if known.workaround:
        blocks.append(kit.section(f"*Workaround:* {person_text(known.workaround, UPDATE_LENGTH)}"))
    if known.latest_update:
        blocks.append(kit.section(f"*Latest update:* {person_text(known.latest_update, UPDATE_LENGTH)}"))
    blocks.append(kit.context("If it affects you, raise a request here as usual: it will be linked to this "
                              "problem and you'll get every update in its thread."))
    fallback = clip(f"Known problem affecting the service: {person_text(known.summary, 200)}", FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts(blocks))


# -- the support team's views --------------------------------------------------------------------------


def _header(view: ProblemView) -> str:
    """Safe mrkdwn: "PRB-3 · GOV.UK Pay timeouts" (the title is someone's words, escaped)."""
    return f"{person_text(view.problem.ref, 20)} · {person_text(one_line(view.problem.title), TITLE_LENGTH)}"


def _ticket_line(ticket: LinkedTicket) -> str:
    parts = [f"*{person_text(ticket.ref, 20)}*", facts.status_label(ticket.status)]
    if ticket.priority:
        parts.append(person_text(ticket.priority, 10))
    parts.append(person_text(one_line(ticket.title or ""), TICKET_TITLE_LENGTH) or "(no title)")
    if ticket.sla_state:
        parts.append(person_text(ticket.sla_state, 80))
    return " · ".join(parts)


def by_council_lines(tickets_by_council: Mapping[str, Sequence[LinkedTicket]], names: Mapping[str, str]) -> list[str]:
    """"*Cherwell District Council* (2)" then one line per ticket: support's eyes only."""
    lines: list[str] = []
    for council_id in sorted(tickets_by_council, key=lambda c: names.get(c, c).lower()):
        tickets = tickets_by_council[council_id]
        if not tickets:
            continue
        name = person_text(one_line(names.get(council_id, council_id)), 100)
        lines.append(f"*{name}* ({len(tickets)})")
        lines += [f"• {_ticket_line(t)}" for t in tickets]
    return lines


def _facts(view: ProblemView, now: datetime) -> list[Block]:
    problem = view.problem
    owner = user(problem.owner) if problem.owner else "nobody yet"
    opened = local_time(problem.opened_at, ZONE, now)
    councils = sum(1 for tickets in view.tickets_by_council.values() if tickets)
    tickets = sum(len(tickets) for tickets in view.tickets_by_council.values())
    return [kit.fields([("Status", _status(problem.status_label)), ("Owner", owner), ("Opened", opened),
                        ("Linked", f"{tickets} ticket{'s' * (tickets != 1)} from {councils} "
                                   f"council{'s' * (councils != 1)}")])]


def _body(view: ProblemView, names: Mapping[str, str], now: datetime) -> list[Block]:
    blocks: list[Block] = [kit.header(f"Problem {view.problem.ref}"), kit.section(f"*{_header(view)}*")]
    blocks += _facts(view, now)
    if view.summary:
        blocks.append(kit.section(f"*For councils:* {person_text(view.summary, SUMMARY_LENGTH)}"))
    if view.workaround:
        blocks.append(kit.section(f"*Workaround:* {person_text(view.workaround, UPDATE_LENGTH)}"))
    if view.updates:
        latest = view.updates[-1]
        blocks.append(kit.context(f"Latest update {local_time(latest.at, ZONE, now)}: "
                                  f"{person_text(latest.text, UPDATE_LENGTH)}"))
    lines = by_council_lines(view.tickets_by_council, names)
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 3
    packed = kit.sections(lines)
    blocks += packed[:room] if lines else [kit.context("No tickets linked yet.")]
    if len(packed) > room:
        blocks.append(kit.context(f"More tickets than fit here: `desk problems show {view.problem.ref}` lists them all"))
    return blocks


def triage_message(view: ProblemView, names: Mapping[str, str], now: datetime) -> Message:
    """The problem's own message in the triage channel, updated in place: its status, owner, what councils
    are told, and its tickets by council (`names`: council id -> name). `view` is `problems.problem_view`
    (support only)."""
    blocks = _body(view, names, now)
    blocks.append(kit.context(f"`{SLASH_COMMAND} problem update {view.problem.ref} TEXT` tells every linked "
                              f"council · `{SLASH_COMMAND} problem resolve {view.problem.ref} NOTE` resolves them all"))
    return Message(text=clip(f"Problem {_header(view)}", FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def problem_detail(view: ProblemView, names: Mapping[str, str], now: datetime) -> Message:
    """`/desk problem show PRB-n`: the same as the triage message, plus its status history."""
    blocks = _body(view, names, now)
    history = [f"{local_time(change.at, ZONE, now)} {_status((change.status_from or 'opened').replace('_', ' '))} "
               f"→ {_status(change.status_to.replace('_', ' '))}" for change in view.history][-10:]
    if history and len(blocks) < MESSAGE_MAX_BLOCKS:
        blocks.append(kit.context("History: " + " · ".join(history)))
    return Message(text=clip(f"Problem {_header(view)}", FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def problem_list(problems: Sequence[ProblemSummary], now: datetime) -> Message:
    """`/desk problem list`: open problems, newest first, each with how many tickets and councils."""
    if not problems:
        said = f"No open problems. `{SLASH_COMMAND} problem new` starts one."
        return Message(text=said, blocks=kit.dicts([kit.section(said)]))
    lines = []
    for p in list(problems)[:LIST_LENGTH]:
        status = _status(p.status_label)
        lines.append(f"• *{person_text(p.ref, 20)}* · {status} · "
                     f"{person_text(one_line(p.title), TITLE_LENGTH)} — {p.tickets} ticket{'s' * (p.tickets != 1)}, "
                     f"{p.councils} council{'s' * (p.councils != 1)}")
    blocks: list[Block] = [kit.section(f"*Open problems* ({len(problems)})"), *kit.sections(lines)]
    if len(problems) > LIST_LENGTH:
        blocks.append(kit.context(f"and {len(problems) - LIST_LENGTH} more (`desk problems list`)"))
    return Message(text=f"Open problems ({len(problems)})", blocks=kit.dicts(blocks))


def usage() -> Message:
    """`/desk problem` with no verb, or one desk does not know."""
    lines = [
        f"*`{SLASH_COMMAND} problem list`* — open problems.",
        f"*`{SLASH_COMMAND} problem show PRB-3`* — one problem and its tickets by council.",
        f"*`{SLASH_COMMAND} problem new`* — start a problem (or use *Link to problem* on a triage card).",
        f"*`{SLASH_COMMAND} problem update PRB-3 [STATUS] TEXT`* — tell every linked council; STATUS is "
        "investigating, identified, known_error or monitoring.",
        f"*`{SLASH_COMMAND} problem workaround PRB-3 TEXT`* — set the workaround (sent to every linked thread).",
        f"*`{SLASH_COMMAND} problem summary PRB-3 TEXT`* — what councils read about it (not posted by itself).",
        f"*`{SLASH_COMMAND} problem match PRB-3 PHRASE, PHRASE`* — link new tickets that say these "
        "(with the same triage rule or category) as they arrive.",
        f"*`{SLASH_COMMAND} problem resolve PRB-3 NOTE`* — resolve it and every linked open ticket.",
        f"*`{SLASH_COMMAND} problem broadcast PRB-3`* — post its summary in every council's channel.",
    ]
    return Message(text=f"How to use {SLASH_COMMAND} problem", blocks=kit.dicts([kit.section("\n".join(lines))]))


# -- modals ----------------------------------------------------------------------------------------------


def link_modal(ref: str, title: str, choices: Sequence[tuple[int, str]]) -> dict[str, Any]:
    """"Link to problem" on a triage card: choose an open problem, or start one from this ticket (a title
    for the support team, and the summary councils will read, both in the engineer's words)."""
    blocks: list[Block] = [kit.section(f"*{person_text(ref, 20)}* · {person_text(one_line(title), 300)}")]
    options = [kit.option(label, str(problem_id)) for problem_id, label in choices
               if len(str(problem_id)) <= OPTION_VALUE_MAX][:SELECT_OPTIONS_MAX]
    if options:
        blocks.append(_select(BlockId.PROBLEM, "Link to an open problem", options,
                              hint="Or leave this empty and start a new problem below."))
    else:
        blocks.append(kit.context("No problem is open: start one from this ticket."))
    # Nothing of the council's words is copied into the problem: problems are not reached by retention or
    # `desk privacy redact`, so the engineer writes the title and summary in their own words.
    blocks += _new_problem_inputs(optional=bool(options))
    return _modal(ViewId.LINK_PROBLEM, "Link to problem", "Link", blocks, ProblemForm(ref=ref).dump())


def new_problem_modal() -> dict[str, Any]:
    """`/desk problem new`: a problem with no ticket yet (tickets are linked from their cards)."""
    return _modal(ViewId.NEW_PROBLEM, "New problem", "Start", _new_problem_inputs(optional=False),
                  ProblemForm().dump())


def _new_problem_inputs(*, optional: bool) -> list[Block]:
    return [
        _text(BlockId.PROBLEM_TITLE, "New problem: title", TITLE_MAX, optional=optional,
              placeholder="e.g. GOV.UK Pay timeouts", hint="For the support team only: councils never see it."),
        _text(BlockId.PROBLEM_SUMMARY, "Summary for councils", SUMMARY_MAX, multiline=True, optional=optional,
              placeholder="e.g. Card payments through GOV.UK Pay are timing out. We are working with GOV.UK Pay.",
              hint="Every linked council reads this. Name no council: each sees only its own ticket."),
    ]


def _text(block_id: str, label: str, max_length: int, *, initial: str = "", multiline: bool = False,
          optional: bool = False, placeholder: str | None = None, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=str(block_id), label=kit.plain(label, LABEL_MAX), optional=optional,
        element=PlainTextInputElement(
            action_id=str(Input.VALUE), multiline=multiline, max_length=max_length,
            initial_value=shorten(initial, max_length) if initial.strip() else None,
            placeholder=kit.plain(placeholder, PLACEHOLDER_MAX) if placeholder else None),
        hint=kit.plain(hint, LABEL_MAX) if hint else None)


def _select(block_id: str, label: str, options: list[Option], *, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=str(block_id), label=kit.plain(label, LABEL_MAX), optional=True,
        element=StaticSelectElement(action_id=str(Input.VALUE), placeholder=kit.plain("Choose…", PLACEHOLDER_MAX),
                                    options=options),
        hint=kit.plain(hint, LABEL_MAX) if hint else None)


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str) -> dict[str, Any]:
    return View(type="modal", callback_id=str(callback_id), title=kit.plain(title, MODAL_TITLE_MAX),
                submit=kit.plain(submit, BUTTON_LABEL_MAX), close=kit.plain("Cancel", BUTTON_LABEL_MAX),
                blocks=blocks, private_metadata=metadata).to_dict()
