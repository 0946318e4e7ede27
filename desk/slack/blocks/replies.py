"""What desk says to people: council thread replies and answers to `/desk`.

Council staff read these, so they are short, plain and name what happens next. No internal detail
(triage reasons, internal notes) goes here: these messages may sit in a Slack Connect channel.

Rating buttons: Slack wants distinct action ids within one actions block, so each is
`f"{Action.RATE}.{score}"` ("desk.rate.1" … "desk.rate.5"). The listener matches them with a pattern such as
`re.compile(r"^desk\\.rate\\.[1-5]$")` and trusts only the `RatingValue` in `value`, never the suffix.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block

from desk.services.problem_views import KnownProblem
from desk.services.read_models import TicketSummary
from desk.slack.blocks import FALLBACK_LENGTH, Message, facts, kit
from desk.slack.blocks.problems import known_problem_lines
from desk.slack.blocks.text import clip, local_time, person_text
from desk.slack.ids import SLASH_COMMAND, TICKET_REACTION, Action
from desk.slack.metadata import RatingValue, TicketRef

NOTE_LENGTH = 2500
DESCRIPTION_LENGTH = 600
NOTICE_LENGTH = 2000
LIST_LENGTH = 20
LIST_TITLE_LENGTH = 80
SCORES = (1, 2, 3, 4, 5)


def rate_action_id(score: int) -> str:
    return f"{Action.RATE}.{score}"


def ticket_opened(t: TicketSummary) -> Message:
    """The thread root desk posts in the council's channel for a request made with a form, not a message.

    The confirmation and every later reply then thread under it, exactly as for a captured message.
    The requester sees their own words; the rest of the council sees what is being worked on.
    """
    blocks: list[Block] = [kit.section(f":ticket: *{t.ref}* · {facts.title(t, 300)}")]
    if t.description.strip():
        blocks.append(kit.section(person_text(t.description, DESCRIPTION_LENGTH)))
    if t.follow_up_of:
        blocks.append(kit.context(f"Follow-up to {t.follow_up_of}, which is closed"))
    blocks.append(kit.context(f"Requested by {facts.requester(t)} · "
                              "replies in this thread reach the support team"))
    return Message(text=clip(f"{t.ref}: {facts.title(t, 200)}", FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def confirmation(t: TicketSummary, now: datetime, opens_at: datetime | None = None,
                 known: KnownProblem | None = None) -> Message:
    """The threaded reply to a new request: its ref, priority and respond-by time, and what happens next.

    `opens_at` is given when the request arrived outside working hours: the council should not expect a
    reply before then, and saying so up front saves a "did anyone see this?" message. `known` is the open
    problem intake linked the ticket to: the council reads that it is a known problem affecting the
    service, with its latest update (what councils may read only: no other council, no other ticket).
    """
    thanks = f"Thanks, this is {t.ref} ({facts.priority_label(t)})."
    if t.respond.due_at is not None:
        thanks += f" We'll respond by {local_time(t.respond.due_at, t.timezone, now)}."
    lines: list[str] = []
    if opens_at is not None:
        lines.append(f":crescent_moon: We're closed now; we'll pick this up from "
                     f"{local_time(opens_at, t.timezone, now)}.")
    lines.append("An engineer will reply in this thread. Reply here to add information or screenshots.")
    blocks = [kit.section(thanks.replace(t.ref, f"*{t.ref}*", 1))]
    if known is not None and known.is_open:
        blocks.append(kit.section("\n".join(known_problem_lines(known))))
        thanks += " This is a known problem affecting the service."
    blocks.append(kit.context(*lines))
    return Message(text=clip(thanks, FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def resolution(t: TicketSummary, note: str, now: datetime | None = None) -> Message:
    """The resolution note in the council thread, with 1–5 rating buttons (values: `RatingValue`) and,
    until the ticket closes, "Not fixed" (value: `TicketRef`). Rebuilt for the ticket's status when it is
    reopened (no buttons) or closed (ratings only), so an old message never offers what cannot be done."""
    said = f":white_check_mark: *{t.ref}* is resolved: {person_text(note, NOTE_LENGTH)}"
    blocks: list[Block] = [kit.section(said)]
    buttons = [kit.button(f"{score} {'★' * score}", rate_action_id(score),
                          value=RatingValue(ref=t.ref, score=score).dump()) for score in SCORES]
    if t.status == "resolved":
        buttons.append(kit.button("Not fixed", Action.NOT_FIXED, value=TicketRef(ref=t.ref).dump(),
                                  style="danger"))
        closes = (f" Otherwise it closes {local_time(t.close_due_at, t.timezone, now or t.close_due_at)}."
                  if t.close_due_at else "")
        blocks += [kit.section("*How did we do?* 1 = poor, 5 = excellent."), ActionsBlock(elements=buttons),
                   kit.context(f"Not fixed? Press *Not fixed* or reply here, and we'll pick it up again.{closes}")]
    elif t.status == "closed":
        blocks += [kit.section("*How did we do?* 1 = poor, 5 = excellent."), ActionsBlock(elements=buttons),
                   kit.context(f":lock: {t.ref} is closed. Reply here and we'll open a follow-up ticket.")]
    else:
        blocks.append(kit.context(f":leftwards_arrow_with_hook: {t.ref} was reopened: "
                                  "the support team is working on it again."))
    fallback = clip(f"{t.ref} is resolved: {person_text(note, FALLBACK_LENGTH)}", FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts(blocks))


def rating_thanks(score: int) -> Message:
    """Replaces the rating buttons once clicked, so the same person cannot keep rating from the message."""
    said = f"Thanks for rating us {facts.rating(score)}."
    if score <= 2:
        said += " Sorry we fell short: reply here to tell us what we could have done better."
    return Message(text=said, blocks=kit.dicts([kit.section(said)]))


def status(t: TicketSummary, now: datetime) -> Message:
    """`/desk status REF`: one ticket's state and where its SLA stands."""
    blocks: list[Block] = [
        kit.section(f"*{t.ref}* · {facts.title(t, 300)}"),
        kit.context(f"{facts.council(t)} · {facts.priority_label(t)} · opened "
                    f"{local_time(t.opened_at, t.timezone, now)} by {facts.requester(t)}"),
        kit.fields([
            ("Status", facts.status_label(t.status)),
            ("Assignee", facts.assignee(t)),
            ("Respond", facts.respond_line(t, now)),
            (facts.resolve_label(t), facts.resolve_line(t, now)),
        ]),
    ]
    if t.rating is not None:
        blocks.append(kit.context(f"Rated {facts.rating(t.rating)}"))
    fallback = clip(f"{t.ref} · {facts.status_label(t.status)} · {facts.title(t, 200)}", FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts(blocks))


def list_line(t: TicketSummary, now: datetime, *, with_council: bool) -> str:
    """One ticket on one line: ref, priority, status, (council, for support,) title, what is due next."""
    parts = [f"*{t.ref}*", facts.priority_label(t), facts.status_label(t.status)]
    if with_council:
        parts.append(facts.council(t))
    parts.append(facts.title(t, LIST_TITLE_LENGTH))
    return f"• {' · '.join(parts)} — {facts.next_due(t, now)}"


def ticket_list(council_name: str | None, tickets: list[TicketSummary], now: datetime, *,
                total: int | None = None, heading: str | None = None) -> Message:
    """`/desk list`: a council's tickets, or every council's for support (`council_name` None), or one of
    support's queues (`heading`, e.g. "Unassigned"), soonest due first.

    At most `LIST_LENGTH` lines, then "and N more" (`total`: how many there are beyond those passed in):
    an ephemeral reply is no place for a full export.
    """
    whose = person_text(council_name, 100) if council_name else "all councils"
    title = person_text(heading, 100) if heading else f"Tickets for {whose}"
    total = len(tickets) if total is None else max(total, len(tickets))
    if not tickets:
        empty = f"No open tickets: {title}." if heading else f"No open tickets for {whose}."
        blocks: list[Block] = [kit.section(empty)]
        return Message(text=clip(empty, FALLBACK_LENGTH), blocks=kit.dicts(blocks))
    shown = tickets[:LIST_LENGTH]
    blocks = [kit.section(f"*{title}* ({total})")]
    blocks += kit.sections(list_line(t, now, with_council=council_name is None) for t in shown)
    if total > len(shown):
        more = f"and {total - len(shown)} more"
        if heading:
            more += f" (narrow it to one council: `{SLASH_COMMAND} list QUEUE COUNCIL`, or `desk tickets list`)"
        blocks.append(kit.context(more))
    fallback = clip(f"{title} ({total})", FALLBACK_LENGTH)
    return Message(text=fallback, blocks=kit.dicts(blocks))


def help() -> Message:  # shadows the builtin on purpose: it answers `/desk help`
    """How to reach desk, in the order people usually need it."""
    lines = [
        f"*`{SLASH_COMMAND}`* — open a new support request (a short form).",
        f"*`{SLASH_COMMAND} status REF`* — where a ticket stands, e.g. `{SLASH_COMMAND} status CHW-12`.",
        f"*`{SLASH_COMMAND} list`* — your council's open tickets (support: every council's; "
        f"`{SLASH_COMMAND} list breaching|unassigned|mine|waiting [COUNCIL]` one queue).",
        f"*`{SLASH_COMMAND} search WORDS`* — find tickets by their words, e.g. `{SLASH_COMMAND} search refund failed` "
        "(your council's; support: every council's).",
        f"*:{TICKET_REACTION}: reaction* — react to a message in your support channel to make it a ticket.",
        "*Message shortcut* — “Open a desk ticket” from a message's ⋮ menu, to start a request from it.",
        "A new message in your council's support channel opens a ticket too; replies go in its thread.",
    ]
    blocks = [kit.section("*desk* is how you reach the support team."), kit.section("\n".join(lines))]
    return Message(text=f"How to use {SLASH_COMMAND}", blocks=kit.dicts(blocks))


def notice(text: str) -> Message:
    """A plain sentence from desk (a refusal, an error). Escaped: it may quote what someone typed."""
    # Slack refuses an empty section, so a blank notice still says something.
    said = person_text(text.strip(), NOTICE_LENGTH) or "Sorry, something went wrong."
    return Message(text=clip(said, FALLBACK_LENGTH), blocks=kit.dicts([kit.section(said)]))

