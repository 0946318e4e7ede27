"""The councils of bench_digests.py and their week: playbooks as YAML, a few template councils living the
week through the real services, the rest bulk clones of them (tickets, clocks and a re-hashed event chain)."""

from __future__ import annotations

import random
import string
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update

from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow, SlaClockRow, TicketEventRow, TicketRow
from desk.domain.audit import GENESIS, event_hash
from desk.services import playbooks, tickets
from desk.services.playbook_files import load_directory

WEEK = "2026-W11"
DIGEST_AT = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (GMT): every council's digest
WINDOW_START = DIGEST_AT - timedelta(days=7)
SYNCED_AT = datetime(2026, 2, 1, tzinfo=UTC)
TEMPLATES = 4  # councils that live their week through the real services; the rest are clones
MAX_TICKETS = 50
MANAGERS = ("U0MANAGER01", "U0MANAGER02")
TOKEN = "xoxb-bench-digests"
TABLES = {"ticket": TicketRow.__table__, "clock": SlaClockRow.__table__, "event": TicketEventRow.__table__}
RESPOND_MIN = {"P1": 30, "P2": 60, "P3": 240, "P4": 480}
TITLES = ("Card payments failing at the contact centre", "Direct debit file rejected by the bank",
          "Reconciliation report shows a gap", "GOV.UK Pay refunds stuck", "Cannot take payments on kiosk 3",
          "Suspense items not matching", "New fund code needed", "User locked out of the income system")


# -- councils and playbooks, as YAML ----------------------------------------------------------------------


def prefix(index: int) -> str:
    letters = string.ascii_uppercase
    return "D" + letters[index // 676 % 26] + letters[index // 26 % 26] + letters[index % 26]


def channel(index: int) -> str:
    return f"C0DIGEST{index:04d}"


PLAYBOOK = """id: {id}
name: {name}
calendar:
  timezone: Europe/London
  division: england-and-wales
  hours: {hours}
  closures: ["2026-12-24"]
priorities:
  P1: {{name: Critical, respond: 30m, resolve: 4h, clock: 24x7}}
  P2: {{name: High, respond: 1h, resolve: 8h{p2_clock}}}
  P3: {{name: Medium, respond: 4h, resolve: 24h}}
  P4: {{name: Low, respond: 8h, resolve: 80h}}
matrix:
  high:   {{high: P1, medium: P2, low: P3}}
  medium: {{high: P2, medium: P3, low: P4}}
  low:    {{high: P3, medium: P4, low: P4}}
rules:
  - name: cannot-take-payments
    match: "(?i)(cannot|can't|unable to) take (card )?payments"
    set: {{category: payments, impact: high, urgency: high}}
pause_on: [waiting_on_council]
escalations:
  - {{metric: respond, at: 75, notify: [triage]}}
  - {{metric: respond, at: 100, notify: [duty_lead]}}
  - {{metric: resolve, at: 75, notify: [assignee]}}
  - {{metric: resolve, at: 100, notify: [service_manager], repeat_every: 2h}}
"""


def write_playbooks(directory: Path, councils: int) -> None:
    """Two playbooks (office hours; extended hours with P2 on 24x7) and `councils` councils in three
    divisions, each with its own team and channel, every digest on Monday at 09:00."""
    (directory / "standard.yaml").write_text(PLAYBOOK.format(
        id="standard", name="Standard support", p2_clock="",
        hours='{mon-thu: ["09:00-12:30", "13:30-17:00"], fri: ["09:00-16:30"]}'))
    (directory / "extended.yaml").write_text(PLAYBOOK.format(
        id="extended", name="Extended hours", p2_clock=", clock: 24x7", hours='{mon-fri: ["08:00-18:00"]}'))
    lines = ["councils:"]
    for index in range(councils):
        division = ("england-and-wales", "england-and-wales", "scotland", "northern-ireland")[index % 4]
        lines += [f"  - id: council-{index:04d}", f"    name: Council {index:04d} & District",
                  f"    ref_prefix: {prefix(index)}", f"    playbook: {('standard', 'extended')[index % 2]}",
                  f"    division: {division}",
                  f"    slack: {{teams: [T0COUNCIL{index:04d}], channels: [{channel(index)}]}}",
                  f'    digest: {{channel: {channel(index)}, day: mon, time: "09:00"}}']
    lines += ["support:", "  team: T0SUPPORT", "  triage_channel: C0TRIAGE", "  engineers: [U0ENGINEER1]",
              "  duty_lead: U0DUTYLEAD", f"  service_managers: [{', '.join(MANAGERS)}]"]
    (directory / "councils.yaml").write_text("\n".join(lines) + "\n")


# -- a week of tickets -------------------------------------------------------------------------------------


@dataclass(order=True)
class Action:
    at: datetime
    number: int  # the ticket, by its number in the council (1 = opened first)
    kind: str = field(compare=False)
    value: str = field(compare=False, default="")


def week_plan(rng: random.Random) -> list[Action]:
    """MAX_TICKETS tickets, opened in time order (a few the week before, still open), each with a story."""
    opened = sorted([WINDOW_START - timedelta(days=4, minutes=rng.randrange(600)) for _ in range(4)]
                    + [WINDOW_START + timedelta(minutes=10 + rng.randrange(4 * 24 * 60 + 420))
                       for _ in range(MAX_TICKETS - 4)])
    last = DIGEST_AT - timedelta(hours=1)
    actions: list[Action] = []
    for number, at in enumerate(opened, start=1):
        priority = rng.choices(("P1", "P2", "P3", "P4"), (5, 20, 45, 30))[0]
        actions.append(Action(at, number, "open", priority))
        story = rng.choices(("new", "answered", "resolved", "waiting", "back", "priority", "reopened"),
                            (12, 20, 33, 10, 8, 9, 8))[0]
        if story == "new":
            continue
        reply = at + timedelta(minutes=RESPOND_MIN[priority] * rng.uniform(0.1, 1.6))
        steps = [(reply, "reply", "")]
        later = reply + timedelta(minutes=rng.uniform(20, 60 * 30))
        if story == "resolved":
            steps.append((later, "resolve", ""))
        elif story in ("waiting", "back"):
            steps.append((later, "wait", ""))
            if story == "back":
                back = later + timedelta(minutes=rng.uniform(30, 600))
                steps += [(back, "comment", ""), (back + timedelta(minutes=rng.uniform(10, 600)), "resolve", "")]
        elif story == "priority":
            new = rng.choice([p for p in RESPOND_MIN if p != priority])
            steps += [(reply + timedelta(minutes=5), "priority", new), (later, "resolve", "")]
        elif story == "reopened":
            again = later + timedelta(minutes=rng.uniform(60, 600))
            steps += [(later, "resolve", ""), (again, "reopen", ""),
                      (again + timedelta(minutes=rng.uniform(30, 900)), "resolve", "")]
        for step_at, kind, value in steps:
            if step_at > last:
                break  # the rest of the story happens after the digest
            actions.append(Action(step_at.replace(microsecond=0), number, kind, value))
    return sorted(actions)


def live_week(engine: Engine, council_id: str, actions: list[Action]) -> None:
    """The template council's week through the real services, in time order."""
    refs: dict[int, str] = {}
    with unit_of_work(engine) as session:
        for action in actions:
            at, ref = action.at, refs.get(action.number, "")
            if action.kind == "open":
                title = TITLES[action.number % len(TITLES)] + (" <urgent> & more" if action.number % 9 == 0 else "")
                refs[action.number] = tickets.open_ticket(
                    session, council_id=council_id, title=title, at=at, actor="U0COUNCILSTAFF",
                    requester="U0COUNCILSTAFF", priority=action.value).ref
            elif action.kind == "reply":
                tickets.reply(session, ref=ref, text="Looking at it now.", actor="U0ENGINEER1", at=at)
            elif action.kind == "wait":
                tickets.set_status(session, ref=ref, status="waiting_on_council", actor="U0ENGINEER1", at=at)
            elif action.kind == "comment":
                tickets.comment(session, ref=ref, text="Here is the file.", actor="U0COUNCILSTAFF", at=at)
            elif action.kind == "priority":
                tickets.change_priority(session, ref=ref, priority=action.value, reason="impact revised",
                                        actor="U0ENGINEER1", at=at)
            elif action.kind == "resolve":
                tickets.resolve(session, ref=ref, note="Fixed.", actor="U0ENGINEER1", at=at)
            elif action.kind == "reopen":
                tickets.reopen(session, ref=ref, reason="Still failing.", actor="U0COUNCILSTAFF", at=at)


@dataclass
class Template:
    tickets: list[dict]
    clocks: dict[int, list[dict]]  # by template ticket id
    events: list[dict]  # in seq order


def read_template(engine: Engine, council_id: str) -> Template:
    t, c, e = TABLES["ticket"], TABLES["clock"], TABLES["event"]
    with engine.connect() as connection:
        rows = [r._asdict() for r in connection.execute(select(t).where(t.c.council_id == council_id)
                                                          .order_by(t.c.number))]
        ids = [row["id"] for row in rows]
        clocks: dict[int, list[dict]] = defaultdict(list)
        for clock in connection.execute(select(c).where(c.c.ticket_id.in_(ids))):
            clocks[clock.ticket_id].append({k: v for k, v in clock._asdict().items() if k != "id"})
        events = [r._asdict() for r in connection.execute(select(e).where(e.c.council_id == council_id)
                                                            .order_by(e.c.seq))]
    return Template(rows, clocks, events)


def clone_week(engine: Engine, template: Template, council_id: str, ref_prefix: str, count: int,
               next_id: int) -> int:
    """The template's first `count` tickets for another council: new ids and refs, the event chain re-hashed
    (so `desk audit verify` holds). Returns the next free ticket id."""
    ticket_rows, clock_rows, event_rows, new_ids = [], [], [], {}
    for row in template.tickets[:count]:
        new_ids[row["id"]] = next_id
        ticket_rows.append(row | {"id": next_id, "council_id": council_id, "ref": f"{ref_prefix}-{row['number']}"})
        clock_rows += [clock | {"ticket_id": next_id} for clock in template.clocks[row["id"]]]
        next_id += 1
    seq, last_hash = 0, GENESIS
    for event in template.events:
        if event["ticket_id"] not in new_ids:
            continue
        seq += 1
        ref = f"{ref_prefix}-{event['ticket_ref'].split('-')[1]}"
        digest = event_hash(council_id=council_id, seq=seq, ticket_ref=ref, type=event["type"], actor=event["actor"],
                            at=event["at"], data=event["data"], prev_hash=last_hash, version=event["hash_version"],
                            salt=event["text_salt"])
        event_rows.append({k: v for k, v in event.items() if k != "id"} | {
            "council_id": council_id, "seq": seq, "ticket_id": new_ids[event["ticket_id"]], "ticket_ref": ref,
            "prev_hash": last_hash, "hash": digest})
        last_hash = digest
    with engine.begin() as connection:
        connection.execute(insert(TABLES["ticket"]), ticket_rows)
        connection.execute(insert(TABLES["clock"]), clock_rows)
        connection.execute(insert(TABLES["event"]), event_rows)
        connection.execute(update(CouncilRow.__table__).where(CouncilRow.__table__.c.id == council_id).values(
            next_number=count + 1, last_seq=seq, last_hash=last_hash))
    return next_id


@dataclass
class Seeded:
    councils: list[str]
    channels: dict[str, str]  # council id -> its channel
    opened: dict[str, int]  # council id -> tickets opened in the week (what its digest must say)
    tickets: int


def seed(engine: Engine, directory: Path, councils: int) -> Seeded:
    with unit_of_work(engine) as session:
        playbooks.sync(session, load_directory(directory), at=SYNCED_AT)
    rng = random.Random(20260309)
    ids = [f"council-{index:04d}" for index in range(councils)]
    templates = []
    for index in range(min(TEMPLATES, councils)):
        live_week(engine, ids[index], week_plan(rng))
        templates.append(read_template(engine, ids[index]))
    with engine.connect() as connection:
        next_id = int(connection.execute(select(func.max(TABLES["ticket"].c.id))).scalar_one()) + 1
    sizes: dict[str, int] = {}
    for index, council_id in enumerate(ids):
        if index < len(templates):
            sizes[council_id] = MAX_TICKETS
            continue
        sizes[council_id] = rng.randint(20, MAX_TICKETS)
        template = templates[index % len(templates)]
        next_id = clone_week(engine, template, council_id, prefix(index), sizes[council_id], next_id)
    opened = {}
    for index, council_id in enumerate(ids):
        template = templates[index % len(templates)]
        opened[council_id] = sum(1 for row in template.tickets[:sizes[council_id]]
                                 if WINDOW_START < row["opened_at"] <= DIGEST_AT)
    return Seeded(ids, {cid: channel(index) for index, cid in enumerate(ids)}, opened, sum(sizes.values()))
