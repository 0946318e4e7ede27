"""Hostile and malformed Slack requests, fuzzed (hypothesis) through the real front door.

Each example is a request signed exactly as Slack signs it (`SlackDriver`), sent to the real Bolt app behind
`DeskWsgi` with the stand-in as Slack and a real database, so it gets past the signature check into Bolt and
desk's listeners. One database per test, kept across its examples (seeded with tickets of three councils),
so the properties are checked cumulatively after every example, once the lazy work has settled:

- never a 5xx: a payload with Slack's shape gets 200 (acted on or ignored), a broken one 4xx or 200;
- nothing half-written: every ticket has its `opened` event first and exactly once, its SLA clock rows,
  each council's numbers run 1..n with `next_number` n+1, and its event hash chain verifies;
- tenant isolation: every ticket event and rating is by support staff or a member of the ticket's council
  (as the stand-in's users.info knows them), and no words of one council's tickets reach anyone outside it
  and support (the stand-in's call log, by recipient);
- desk never sent Slack anything invalid (the stand-in's violations), whatever the input's size or content;
- lazy work that fails is logged and refused politely, never an unexpected exception (an ERROR log line),
  and the executor still works afterwards (a final well-formed request still becomes a ticket);
- an event delivered again (Slack's retry, or a duplicated event_id) has no second effect.

Replay: the examples follow from `DESK_FAULT_SEED` (a fixed seed by default, so CI is deterministic and a
red build names its cause); `DESK_FUZZ_EXAMPLES` scales the number of examples. A failing example prints
its payload and the seed.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import SlaClockRow, TicketEventRow, TicketRatingRow, TicketRow
from desk.sandbox import payloads
from desk.sandbox.driver import Response, SlackDriver
from desk.services import audit, tenancy
from desk.slack.ids import Block, Input, View
from desk.slack.metadata import TicketRef
from tests.faults import payload_strategies as ps
from tests.slack import conftest as slack_fixtures
from tests.slack.conftest import Desk, DoorFirst, door_first

stand_in = slack_fixtures.stand_in
desk = slack_fixtures.desk

SEED = int(os.environ.get("DESK_FAULT_SEED") or 20260105)
SCALE = float(os.environ.get("DESK_FUZZ_EXAMPLES_SCALE") or 1.0)
ENGINEER = "U0ENGINEER1"
SEEDED = {  # council -> (member, channel): two requests each, one of them resolved
    "cherwell": ("U0ALICE001", ps.CHERWELL, ps.CHERWELL_CHANNEL),
    "fife": ("U0BRUCE001", ps.FIFE, ps.FIFE_CHANNEL),
    "belfast": ("U0BELLA001", ps.BELFAST, ps.BELFAST_CHANNEL),
}
REF = re.compile(r"^[A-Z]{2,6}-[0-9]+$")


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example],
                    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink), print_blob=True)


class Errors(logging.Handler):
    """ERROR lines from desk while handling requests: an unexpected exception somewhere."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "desk.web" and record.getMessage().startswith("rejected:"):
            return  # the front's 400 for a payload Bolt cannot parse: the answer is checked, not this line
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@dataclass
class Fuzz:
    desk: Desk
    known: ps.Known
    errors: Errors
    door: SlackDriver  # the same app, each request offered to its front door first (the server loop's way)
    door_first: DoorFirst
    examples: int = 0
    through_door: int = 0  # examples sent to `door`
    statuses: dict[int, int] = field(default_factory=dict)

    def driver(self, data: st.DataObject) -> SlackDriver:
        """Where this example goes: the app as a thread serves it, or its front door first."""
        if data.draw(st.booleans(), label="through the front door"):
            self.through_door += 1
            return self.door
        return self.desk.driver

    @property
    def hooks(self) -> str:
        return self.desk.slack.hooks_url

    def __repr__(self) -> str:
        return f"Fuzz(seed={SEED}, examples={self.examples}, statuses={self.statuses})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis shows the failing case
        printer.text(repr(self))


@pytest.fixture
def fuzz(desk: Desk) -> Iterator[Fuzz]:
    desk.slack.users = {user: {"id": user, "team_id": team, "name": user.lower(), "real_name": user,
                               "tz": "Europe/London"} for user, team in ps.PEOPLE.items()}
    event_ids = []
    for council, (member, team, channel) in SEEDED.items():
        for n in (1, 2):
            body = payloads.message(f"Ticket {n}: {ps.SECRETS[council]} arrears run failed", user=member,
                                    user_team=team, channel=channel)
            desk.slack.add_message(body)
            assert desk.driver.send_event(body).status == 200
            event_ids.append(body["event_id"])
    desk.settle()
    with unit_of_work(desk.engine) as session:
        seeded = list(queries.list_tickets(session))
    assert len(seeded) == 6, [t.ref for t in seeded]
    for ticket in seeded[1::2]:  # the second of each council's: resolved, so it can be rated and reopened
        submission = payloads.view_submission(View.RESOLVE, values={Block.RESOLUTION: {Input.VALUE: "Fixed"}},
                                              user=ENGINEER, user_team=ps.SUPPORT,
                                              private_metadata=TicketRef(ref=ticket.ref).dump())
        assert desk.driver.send_interaction(submission).status == 200
    desk.settle()
    with unit_of_work(desk.engine) as session:
        seeded = list(queries.list_tickets(session))
    assert sorted(t.status for t in seeded) == ["new"] * 3 + ["resolved"] * 3
    known = ps.Known(refs=[t.ref for t in seeded],
                     messages=[(t.slack_channel, t.slack_ts) for t in seeded if t.slack_channel and t.slack_ts],
                     cards=[(t.card_channel, t.card_ts) for t in seeded if t.card_channel and t.card_ts],
                     event_ids=event_ids)
    assert len(known.messages) == 6 and len(known.cards) == 6
    errors = Errors()
    watched = logging.getLogger("desk")
    watched.addHandler(errors)
    desk.slack.reset()
    with door_first(desk) as (door, served):
        state = Fuzz(desk, known, errors, door, served)
        try:
            yield state
            final_probe(state)
        finally:
            watched.removeHandler(errors)
    print(f"fuzz: {fuzz_state_line(desk)}; {served.answered} of {state.through_door} sent to the front door "
          "answered there")
    if desk.engine.dialect.name == "sqlite" and state.through_door >= 20:  # (PostgreSQL stores on a thread)
        assert served.answered > 0, "the front door answered none of the requests offered to it"


def fuzz_state_line(desk: Desk) -> str:
    with unit_of_work(desk.engine) as session:
        count = len(queries.list_tickets(session))
        events = len(session.exec(select(TicketEventRow)).all())
    return f"{count} tickets, {events} ticket events at the end (seed {SEED})"


# --- the properties -------------------------------------------------------------------------------------

def shown(payload: object) -> str:
    text = json.dumps(payload, ensure_ascii=True, default=str)
    return text if len(text) <= 4000 else text[:4000] + f"… ({len(text)} chars)"


def exercise(fuzz: Fuzz, payload: object, send: Callable[[], Response], *, well_formed: bool,
             audience: str | None, redeliver: bool = False) -> None:
    """Send one request, let its lazy work settle, then check every property; `audience`: the actor's team."""
    fuzz.examples += 1
    fuzz.errors.lines.clear()
    fuzz.desk.slack.reset()  # (after a failing example, hypothesis goes on shrinking in the same desk)
    where = f"seed {SEED}, payload {shown(payload)}"
    note(f"seed {SEED}; well_formed={well_formed}; payload:\n{shown(payload)}")
    response = send()
    fuzz.statuses[response.status] = fuzz.statuses.get(response.status, 0) + 1
    assert response.status < 500, f"{response.status} {response.text[:500]} for {where}"
    if well_formed:
        assert response.status == 200, f"{response.status} {response.text[:500]} for a well-formed {where}"
    fuzz.desk.settle(timeout=60)
    if redeliver:
        before = counts(fuzz.desk)
        again = fuzz.desk.driver.redeliver(response, retry_num=1)
        assert again.status < 500, f"redelivery: {again.status} {again.text[:500]} for {where}"
        fuzz.desk.settle(timeout=60)
        assert counts(fuzz.desk) == before, f"a redelivered event had a second effect: {where}"
    check_database(fuzz.desk, where)
    check_calls(fuzz.desk, audience, where)
    refused = [(c.method, shown(c.args)[:600]) for c in fuzz.desk.slack.calls if not c.ok]
    assert fuzz.desk.slack.violations == [], \
        f"desk sent Slack something invalid: {fuzz.desk.slack.violations} in {refused}: {where}"
    assert fuzz.errors.lines == [], f"unexpected errors in desk: {[e[-700:] for e in fuzz.errors.lines[:2]]} for {where}"
    fuzz.desk.slack.reset()


def counts(desk: Desk) -> tuple[int, int]:
    with unit_of_work(desk.engine) as session:
        return (len(session.exec(select(TicketRow)).all()), len(session.exec(select(TicketEventRow)).all()))


def check_database(desk: Desk, where: str) -> None:
    """Complete tickets, gapless numbering, intact event chains, and every change by someone entitled."""
    people = {user: info.get("team_id") for user, info in desk.slack.users.items()}
    with unit_of_work(desk.engine) as session:
        directory = tenancy.directory(session)
        councils = {c.id: c for c in queries.list_councils(session)}
        tickets = session.exec(select(TicketRow).order_by(TicketRow.council_id, TicketRow.number)).all()
        events = session.exec(select(TicketEventRow).order_by(TicketEventRow.council_id, TicketEventRow.seq)).all()
        clocks = session.exec(select(SlaClockRow)).all()
        ratings = session.exec(select(TicketRatingRow)).all()
        chains = audit.verify_all(session)
    by_ticket: dict[int | None, list[TicketEventRow]] = {}
    for row in events:
        by_ticket.setdefault(row.ticket_id, []).append(row)
    metrics: dict[int, set[tuple[str, int]]] = {}
    for clock in clocks:
        metrics.setdefault(clock.ticket_id, set()).add((clock.metric, clock.cycle))

    def entitled(user: str, council_id: str) -> bool:
        team = people.get(user)
        return team is not None and (team == directory.support_team or directory.council_by_team.get(team)
                                     == council_id)

    for council_id, council in councils.items():
        numbers = [t.number for t in tickets if t.council_id == council_id]
        assert numbers == list(range(1, len(numbers) + 1)), f"{council_id} numbers {numbers}: {where}"
        assert council.next_number == len(numbers) + 1, f"{council_id} next_number {council.next_number}: {where}"
    for ticket in tickets:
        council = councils[ticket.council_id]
        assert ticket.ref == f"{council.ref_prefix}-{ticket.number}" and REF.match(ticket.ref), where
        history = by_ticket.get(ticket.id, [])
        assert [e.type for e in history][:1] == ["opened"], f"{ticket.ref} events {history}: {where}"
        assert [e.type for e in history].count("opened") == 1, f"{ticket.ref} opened twice: {where}"
        assert {("respond", 1), ("resolve", 1)} <= metrics.get(ticket.id or -1, set()), \
            f"{ticket.ref} SLA clocks {metrics.get(ticket.id or -1)}: {where}"
        for row in history:
            assert row.council_id == ticket.council_id, f"{ticket.ref} event in {row.council_id}: {where}"
            assert entitled(row.actor, ticket.council_id), \
                f"{ticket.ref} ({ticket.council_id}) {row.type} by {row.actor} ({people.get(row.actor)}): {where}"
        if ticket.slack_channel is not None and ticket.slack_channel in directory.council_by_channel:
            assert directory.council_by_channel[ticket.slack_channel] == ticket.council_id, \
                f"{ticket.ref} thread in {ticket.slack_channel}: {where}"
        if ticket.card_channel is not None:
            assert ticket.card_channel == directory.triage_channel, f"{ticket.ref} card: {where}"
    owners = {t.id: t.council_id for t in tickets}
    for rating in ratings:
        team = people.get(rating.rated_by)
        assert team is not None and directory.council_by_team.get(team) == owners[rating.ticket_id], \
            f"rating of {owners[rating.ticket_id]}'s ticket by {rating.rated_by} ({team}): {where}"
    broken = [report for report in chains if not report.ok]
    assert broken == [], f"event chains broken: {broken}: {where}"


def check_calls(desk: Desk, audience: str | None, where: str) -> None:
    """No council's ticket words reached anyone but that council and support, by what desk sent Slack."""
    people = {user: info.get("team_id") for user, info in desk.slack.users.items()}
    with unit_of_work(desk.engine) as session:
        directory = tenancy.directory(session)

    def readers(team: str | None) -> str | None:  # a council id, "support", or None (no council's words)
        if team is not None and team == directory.support_team:
            return "support"
        return directory.council_by_team.get(team) if team else None

    for call in desk.slack.calls:
        if call.method in ("chat.postMessage", "chat.update"):
            channel = str(call.args.get("channel", ""))
            if channel == directory.triage_channel:
                reader = "support"
            elif channel in directory.council_by_channel:
                reader = directory.council_by_channel[channel]
            else:  # a DM, by user id
                reader = readers(people.get(channel))
        elif call.method == "chat.postEphemeral":
            reader = readers(people.get(str(call.args.get("user", ""))))
        elif call.method == "views.publish":
            reader = readers(people.get(str(call.args.get("user_id", ""))))
        elif call.method in ("views.open", "response_url"):
            reader = readers(audience)
        else:
            continue
        if reader == "support":
            continue
        said = json.dumps(call.args, ensure_ascii=False)
        leaked = [council for council, secret in ps.SECRETS.items() if secret in said and council != reader]
        assert leaked == [], f"{call.method} to a reader of {reader} carried {leaked}'s ticket words: {where}"


def audience_of(person: ps.Person) -> str | None:
    """Who reads what desk answers this person: their organisation (the stand-in's users.info)."""
    return ps.PEOPLE.get(person.user)


def final_probe(fuzz: Fuzz) -> None:
    """After all that, a plain request from a council still becomes a ticket: nothing got stuck."""
    member, team, channel = SEEDED["cherwell"]
    before = counts(fuzz.desk)[0]
    body = payloads.message("Direct debit file rejected by the bank", user=member, user_team=team,
                            channel=channel)
    assert fuzz.desk.driver.send_event(body).status == 200
    fuzz.desk.settle(timeout=60)
    assert counts(fuzz.desk)[0] == before + 1, f"the executor no longer opens tickets (seed {SEED})"
    check_database(fuzz.desk, f"the final request (seed {SEED})")
    assert fuzz.desk.slack.violations == [] and fuzz.errors.lines == []
    print(f"fuzz: {fuzz.examples} requests, statuses {dict(sorted(fuzz.statuses.items()))}")


def actor_team(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    user_id = user.get("id") if isinstance(user, dict) else payload.get("user_id")
    if user_id is None and isinstance(payload.get("event"), dict):
        user_id = payload["event"].get("user")
    return ps.PEOPLE.get(user_id) if isinstance(user_id, str) else None


# --- the tests --------------------------------------------------------------------------------------------

@seed(SEED)
@fuzz_settings(140)
@given(data=st.data())
def test_events(fuzz: Fuzz, data: st.DataObject) -> None:
    body = data.draw(ps.events(fuzz.known), label="event")
    mutate = data.draw(st.integers(0, 3), label="mutate") == 0
    changes: list[str] = []
    if mutate:
        body, changes = data.draw(ps.mutated(body), label="mutated")
        note(f"mutations: {changes}")
    well_formed = not mutate and len(str(body.get("event_id"))) <= 100  # Slack's are ~12 characters
    redeliver = well_formed and data.draw(st.booleans(), label="redeliver")
    exercise(fuzz, body, lambda: fuzz.driver(data).send_event(body), well_formed=well_formed,
             audience=actor_team(body), redeliver=redeliver)


@seed(SEED)
@fuzz_settings(100)
@given(data=st.data())
def test_slash_commands(fuzz: Fuzz, data: st.DataObject) -> None:
    fields: dict[str, Any] = data.draw(ps.commands(fuzz.known, fuzz.hooks), label="command")
    audience = actor_team(fields)
    mutate = data.draw(st.integers(0, 3), label="mutate") == 0
    if mutate:
        fields, changes = data.draw(ps.mutated(fields, at_most=3), label="mutated")
        note(f"mutations: {changes}")
    form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in fields.items()}
    exercise(fuzz, form, lambda: fuzz.driver(data).send_form(form), well_formed=not mutate, audience=audience)


@seed(SEED)
@fuzz_settings(180)
@given(data=st.data())
def test_interactions(fuzz: Fuzz, data: st.DataObject) -> None:
    payload = data.draw(ps.interactions(fuzz.known, fuzz.hooks), label="interaction")
    audience = actor_team(payload)
    mutate = data.draw(st.integers(0, 3), label="mutate") == 0
    if mutate:
        payload, changes = data.draw(ps.mutated(payload), label="mutated")
        note(f"mutations: {changes}")
    exercise(fuzz, payload, lambda: fuzz.driver(data).send_interaction(payload), well_formed=not mutate,
             audience=audience)
