"""`desk sandbox --demo`: a few weeks of history, made by people doing what people do in the console.

Every ticket here is opened, answered, paused, breached, resolved, rated or reopened through the same
signed requests a person's clicks send (the `Console`), with the clock moved between steps so desk's SLA
clocks, sweeps, warnings, breaches and weekly digests run as they would have. Nothing is written to
desk's database directly, so what App Home, `/desk report`, the HTML report and the digests show is what
desk itself made of it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from desk.sandbox import console_reads
from desk.sandbox.console_actions import ActionError, Console
from desk.sandbox.people import COUNCIL, ENGINEER

log = logging.getLogger("desk.sandbox.demo")
LONDON = ZoneInfo("Europe/London")
REF = re.compile(r"\b([A-Z]{2,6}-\d+)\b")

# (working days ago, council, what the member wrote, what happens next)
STORIES = [
    (14, "cherwell", "We cannot take card payments at the Banbury counter", "resolved 5"),
    (14, "fife", "Direct debit mandates were rejected by BACS this morning", "paused resolved 4"),
    (13, "west-northamptonshire", "The online payments page shows an error since last night's update", "resolved 3"),
    (12, "monmouthshire", "Suspense account items are not clearing in the overnight run", "breached resolved 2"),
    (11, "cherwell", "The direct debit file for December failed to import", "resolved 5 reopened resolved"),
    (10, "fife", "Council tax payments are not allocating to accounts", "resolved 4"),
    (9, "belfast", "Rates payments through the phone line are failing", "resolved 5"),
    (8, "west-northamptonshire", "Cash receipting totals do not match the bank statement", "paused resolved 4"),
    (7, "monmouthshire", "Can a new cashier get access to the income system?", "resolved 5"),
    (5, "cherwell", "The refund report shows duplicate lines for some accounts", "breached"),
    (4, "fife", "Parking fines are not showing on the daily cash report", "resolved 3"),
    (3, "west-northamptonshire", "Card payments over £1,000 are being declined", "claimed"),
    (2, "monmouthshire", "The income system is slow to search for accounts", "paused"),
    (1, "cherwell", "Receipts are printing without the council's address", "open"),
]
REPLIES = ["Thanks, looking at this now.", "Found it: a stuck job on our side, fixing it.",
           "Could you send a screenshot of the error and the account number?"]


@dataclass
class Story:
    member: str
    channel: str
    text: str
    steps: list[str]
    ts: str = ""
    ref: str = ""
    log: list[str] = field(default_factory=list)


def working_days_back(now: datetime, days: int) -> datetime:
    """10:00 UK time `days` weekdays before `now`."""
    day = now.astimezone(LONDON).date()
    while days:
        day -= timedelta(days=1)
        days -= day.weekday() < 5
    return datetime(day.year, day.month, day.day, 10, tzinfo=LONDON)


def build(console: Console) -> str:
    """Make the history, ending at the sandbox's present; returns a one-line summary."""
    people = console.population.people
    engineers = [p.id for p in people if p.role == ENGINEER]
    triage = console.population.triage.id
    finish = console.clock.now()  # the history ends here
    made, refused = [], 0
    for index, (days, council, text, plan) in enumerate(STORIES):
        members = [p for p in people if p.role == COUNCIL and p.council == council]
        channel = next((c.id for c in console.population.channels if c.council == council), None)
        if not members or channel is None:
            continue
        story = Story(members[index % len(members)].id, channel, text, plan.split())
        engineer = engineers[index % len(engineers)] if engineers else None
        try:
            _move(console, working_days_back(finish, days))
            _play(console, story, engineer, triage)
            made.append(story.ref or "?")
        except ActionError as err:  # a refused step (say, an organisation desk does not serve): carry on
            refused += 1
            log.warning("demo: %r stopped: %s", text, err)
    _move(console, console.clock.now() - console.clock.offset)  # back to the present: no offset
    return f"{len(made)} tickets ({', '.join(made)})" + (f", {refused} refused" if refused else "")


def _move(console: Console, at: datetime) -> None:
    console.clock_to({"to": at.isoformat()})


def _later(console: Console, **step: float) -> None:
    console.clock_to({"to": (console.clock.now() + timedelta(**step)).isoformat()})


def _play(console: Console, story: Story, engineer: str | None, triage: str) -> None:
    story.ts = console.say({"as": story.member, "channel": story.channel, "text": story.text})["ts"]
    story.ref = _ref(console, story)
    if not story.ref or engineer is None:
        raise ActionError(f"desk opened no ticket for {story.text!r}")
    if story.steps == ["open"]:
        return
    _later(console, minutes=20)
    _card_click(console, engineer, triage, story.ref, "desk.claim")
    console.say({"as": engineer, "channel": story.channel, "text": REPLIES[len(story.ref) % 3],
                 "thread_ts": story.ts})
    for step in story.steps:
        if step == "paused":
            _card_click(console, engineer, triage, story.ref, "desk.status", "waiting_on_council")
            _later(console, hours=3)
            console.say({"as": story.member, "channel": story.channel, "thread_ts": story.ts,
                         "text": "Here is the screenshot; it happens on every account we try."})
        elif step == "breached":
            _later(console, days=3)  # nobody resolves it in time: warnings, then the breach
        elif step == "resolved":
            _later(console, hours=2)
            opened = _card_click(console, engineer, triage, story.ref, "desk.resolve")
            view = opened.get("view") or {}
            console.submit({"as": engineer, "view_id": view.get("id"),
                            "values": {"resolution": {"value": f"Fixed: {story.text.lower()}; checked with you."}}})
        elif step == "reopened":
            _later(console, hours=20)
            _card_click(console, engineer, triage, story.ref, "desk.reopen")
        elif step.isdigit():
            _rate(console, story, int(step))


def _ref(console: Console, story: Story) -> str:
    for message in console_reads.messages(console.slack, console.population, story.channel, None,
                                          console.clock.at_wall):
        if message["thread_ts"] == story.ts and message["bot"] and REF.search(message["text"]):
            return REF.search(message["text"]).group(1)  # type: ignore[union-attr]
    return ""


def _card_click(console: Console, user: str, triage: str, ref: str, action_id: str, value: str | None = None) -> dict:
    cards = [m for m in console_reads.messages(console.slack, console.population, triage, None, console.clock.at_wall)
             if m["bot"] and m["text"].startswith(f"{ref} ")]
    if not cards:
        raise ActionError(f"no triage card for {ref}")
    return console.click({"as": user, "channel": triage, "ts": cards[0]["ts"], "action_id": action_id,
                          "value": value})


def _rate(console: Console, story: Story, score: int) -> None:
    for message in reversed(console_reads.messages(console.slack, console.population, story.channel, None,
                                                   console.clock.at_wall)):
        if message["thread_ts"] == story.ts and any(
                e.get("action_id") == f"desk.rate.{score}" for b in message["blocks"] if b["type"] == "actions"
                for e in b.get("elements", [])):
            console.click({"as": story.member, "channel": story.channel, "ts": message["ts"],
                           "action_id": f"desk.rate.{score}"})
            return
