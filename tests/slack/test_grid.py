"""Councils on Enterprise Grid, through signed requests to the running app (issue 18).

Every intake and action path, from (a) a council on a single workspace, (b) a Grid council listed by its
organisation, (c) a Grid council listed by its workspace, (d) a Grid council with two workspaces listed
once by organisation (a member of each), and (e) an unknown Grid organisation, which is refused on every
path. Payloads are shaped as Slack sends them from Grid into a Slack Connect channel
(`desk.sandbox.events` / `interactions`); what they leave out desk asks the stand-in (users.info with
`enterprise_user`, team.info with `enterprise_id`). The support team is listed by its organisation too.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import TicketRatingRow
from desk.domain.playbook import PlaybookSet
from desk.services import tickets
from desk.services.playbook_files import load_directory
from desk.slack.ids import Action, Block, Input, Shortcut, View
from desk.slack.metadata import RatingValue, TicketRef
from tests.conftest import TEST_PLAYBOOKS
from tests.slack.conftest import ENGINEER, SUPPORT, TRIAGE, Desk

SUPPORT_ORG = "E0SUPPORT1"  # the installation's own organisation: the support team is listed by it
REGISTRY = f"""\
councils:
  - {{id: cherwell, name: Cherwell District Council, ref_prefix: CHW, playbook: standard,
     slack: {{teams: [T0CHERWELL], channels: [C0CHERWELL]}}}}
  - {{id: belfast, name: Belfast City Council, ref_prefix: BCC, playbook: standard,
     slack: {{teams: [E0BELFAST1], channels: [C0BELFAST1]}}}}
  - {{id: fife, name: Fife Council, ref_prefix: FIFE, playbook: standard,
     slack: {{teams: [T0FIFE0001], channels: [C0FIFE0001]}}}}
  - {{id: kent, name: Kent County Council, ref_prefix: KCC, playbook: standard,
     slack: {{teams: [E0KENTORG1], channels: [C0KENT0001]}}}}
support:
  team: {SUPPORT_ORG}
  triage_channel: C0TRIAGE
  engineers: [U0ENGINEER1, U0ENGINEER2]
  duty_lead: U0DUTYLEAD
  service_managers: [U0MANAGER]
"""


@dataclass(frozen=True)
class Person:
    user: str
    workspace: str
    organisation: str | None  # None: not on Grid
    channel: str  # where they ask for help
    council: str | None  # the council desk must place them in; None: refused

    @property
    def prefix(self) -> str:
        return {"cherwell": "CHW", "belfast": "BCC", "fife": "FIFE", "kent": "KCC"}[self.council or ""]


PEOPLE = {
    "a-single-workspace": Person("U0ALICE001", "T0CHERWELL", None, "C0CHERWELL", "cherwell"),
    "b-grid-by-organisation": Person("W0BELLA001", "T0BELFAST1", "E0BELFAST1", "C0BELFAST1", "belfast"),
    "c-grid-by-workspace": Person("W0BRUCE001", "T0FIFE0001", "E0FIFEORG1", "C0FIFE0001", "fife"),
    "d-grid-two-workspaces-1": Person("W0KITKENT1", "T0KENTWS01", "E0KENTORG1", "C0KENT0001", "kent"),
    "d-grid-two-workspaces-2": Person("W0KAYKENT2", "T0KENTWS02", "E0KENTORG1", "C0KENT0001", "kent"),
    "e-unknown-grid-organisation": Person("W0MALLORY1", "T0OUTSIDE1", "E0OUTSIDE1", "C0BELFAST1", None),
}
BELLA = PEOPLE["b-grid-by-organisation"]  # whose tickets the unknown organisation tries to reach


@pytest.fixture
def test_playbooks(tmp_path: Path) -> PlaybookSet:
    """The test playbooks with a registry of single-workspace and Grid councils (overrides tests/conftest)."""
    shutil.copy(TEST_PLAYBOOKS / "standard.yaml", tmp_path / "standard.yaml")
    (tmp_path / "councils.yaml").write_text(REGISTRY)
    return load_directory(tmp_path)


@pytest.fixture
def grid(desk: Desk) -> Desk:
    """The stand-in knows each person's workspace, and which workspaces are in which organisation."""
    for person in PEOPLE.values():
        desk.slack.users[person.user] = {"id": person.user, "team_id": person.workspace,
                                         "name": person.user.lower(), "real_name": person.user}
        if person.organisation:
            desk.slack.teams[person.workspace] = {"enterprise_id": person.organisation}
    desk.slack.teams[SUPPORT] = {"enterprise_id": SUPPORT_ORG}
    return desk


# --- what each person sends -------------------------------------------------------------------------------

def grid_of(person: Person) -> dict:
    return {"enterprise_id": person.organisation} if person.organisation else {}


def say(desk: Desk, person: Person, text: str, *, thread_ts: str | None = None, grid_shape: str = "workspace",
        **extra) -> dict:
    body = desk.driver.message(text, user=person.user, user_team=person.workspace, channel=person.channel,
                               thread_ts=thread_ts, grid_shape=grid_shape, **grid_of(person), **extra)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return body


def interact(desk: Desk, payload: dict) -> None:
    response = desk.driver.send_interaction(payload)
    assert response.status == 200, response.text
    desk.settle()


def submit_intake(desk: Desk, person: Person, title: str, private_metadata: str = "{}") -> None:
    interact(desk, desk.driver.view_submission(
        View.INTAKE, user=person.user, user_team=person.workspace, private_metadata=private_metadata,
        values={Block.TITLE: {Input.VALUE: title}}, **grid_of(person)))


def opened_modal(desk: Desk) -> dict | None:
    opened = desk.slack.calls_to("views.open")
    return opened[-1].args["view"] if opened else None


def all_tickets(desk: Desk) -> list:
    with unit_of_work(desk.engine) as session:
        return list(queries.list_tickets(session))


def seed(desk: Desk, person: Person) -> str:
    """A ticket of the person's council (of Belfast's, for someone desk refuses), opened by a message."""
    member = person if person.council else BELLA
    say(desk, member, "Seeded: the cash receipting interface is down")
    ref = all_tickets(desk)[-1].ref
    desk.slack.reset()
    return ref


def events_of(desk: Desk, ref: str) -> list[str]:
    with unit_of_work(desk.engine) as session:
        return [e.type for e in queries.list_ticket_events(session, queries.get_ticket(session, ref).id)]


# --- the paths: each does what the person would, and says what desk did (a council id, or None) -----------

Outcome = str | None  # the council whose ticket was opened or acted on; None: nothing happened


def new_ticket(desk: Desk, before: int, person: Person) -> Outcome:
    found = all_tickets(desk)[before:]
    assert len(found) <= 1, found
    if not found:
        return None
    assert found[0].requester == person.user
    return found[0].council_id


def by_message(desk: Desk, person: Person, grid_shape: str = "workspace") -> Outcome:
    before = len(all_tickets(desk))
    say(desk, person, "We cannot take card payments at the counter", grid_shape=grid_shape)
    return new_ticket(desk, before, person)


def by_message_with_organisation_in_user_team(desk: Desk, person: Person) -> Outcome:
    return by_message(desk, person, grid_shape="organisation")


def by_file_share(desk: Desk, person: Person) -> Outcome:
    before = len(all_tickets(desk))
    files = [{"id": "F0SCREEN01", "name": "error.png", "mimetype": "image/png", "filetype": "png"}]
    say(desk, person, "Screenshot of the payment error", subtype="file_share", files=files)
    return new_ticket(desk, before, person)


def by_thread_reply(desk: Desk, person: Person) -> Outcome:
    ref = seed(desk, person)
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, ref)
    say(desk, person, "It failed again at 10:15", thread_ts=ticket.slack_ts)
    return ticket.council_id if events_of(desk, ref)[-1] == "commented" else None


def by_reaction(desk: Desk, person: Person) -> Outcome:
    before = len(all_tickets(desk))
    ts = "1767600000.000200"
    desk.slack.messages[(person.channel, ts)] = {"type": "message", "user": person.user, "ts": ts,
                                                 "text": "Direct debit file rejected by the bank"}
    body = desk.driver.reaction_added("ticket", user=person.user, user_team=person.workspace,
                                      channel=person.channel, item_ts=ts, item_user=person.user,
                                      **grid_of(person))
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return new_ticket(desk, before, person)


def by_shortcut(desk: Desk, person: Person) -> Outcome:
    before = len(all_tickets(desk))
    message = desk.driver.message_event("GOV.UK Pay is timing out", user=person.user, user_team=person.workspace,
                                        channel=person.channel)
    interact(desk, desk.driver.message_shortcut(Shortcut.FROM_MESSAGE, user=person.user,
                                                user_team=person.workspace, channel=person.channel,
                                                message=message, **grid_of(person)))
    modal = opened_modal(desk)
    if modal is None:
        return None
    submit_intake(desk, person, "GOV.UK Pay timing out", modal["private_metadata"])
    outcome = new_ticket(desk, before, person)
    assert all_tickets(desk)[-1].slack_ts == message["ts"]
    return outcome


def by_slash_command(desk: Desk, person: Person) -> Outcome:
    before = len(all_tickets(desk))
    body = desk.driver.slash_command("", user=person.user, user_team=person.workspace, channel=person.channel,
                                     **grid_of(person))
    assert desk.driver.send_form(body).status == 200
    desk.settle()
    modal = opened_modal(desk)
    if modal is None:
        return None
    submit_intake(desk, person, "Monthly income report please", modal["private_metadata"])
    return new_ticket(desk, before, person)


def by_button(desk: Desk, person: Person) -> Outcome:
    """App Home's "New request" button, then the form it opens."""
    before = len(all_tickets(desk))
    home = {"id": "V0HOMEVIEW", "type": "home", "blocks": []}
    interact(desk, desk.driver.block_action(Action.NEW_REQUEST, user=person.user, user_team=person.workspace,
                                            view=home, **grid_of(person)))
    if opened_modal(desk) is None:
        return None
    submit_intake(desk, person, "Refund failed for a resident")
    return new_ticket(desk, before, person)


def by_modal_submission(desk: Desk, person: Person) -> Outcome:
    before = len(all_tickets(desk))
    submit_intake(desk, person, "Cash book will not balance for November")
    return new_ticket(desk, before, person)


def by_select(desk: Desk, person: Person) -> Outcome:
    """The person chooses a status on the card of their council's ticket: council staff may not, so it is
    refused; then support (listed by organisation) does it, on that council's ticket."""
    ref = seed(desk, person)
    with unit_of_work(desk.engine) as session:
        card_ts = queries.get_ticket(session, ref).card_ts

    def choose(user: str, team: str, organisation: str | None) -> None:
        interact(desk, desk.driver.block_action(
            Action.SET_STATUS, user=user, user_team=team, channel=TRIAGE, message_ts=card_ts,
            selected_option={"value": "in_progress", "text": {"type": "plain_text", "text": "In progress"}},
            **({"enterprise_id": organisation} if organisation else {})))

    choose(person.user, person.workspace, person.organisation)
    assert "status" not in events_of(desk, ref), "only support may change a ticket's status"
    if person.council is None:
        return None
    choose(ENGINEER, SUPPORT, SUPPORT_ORG)
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, ref)
    return ticket.council_id if ticket.status == "in_progress" else None


def by_app_home(desk: Desk, person: Person) -> Outcome:
    ref = seed(desk, person)
    body = desk.driver.app_home_opened(user=person.user, user_team=person.workspace, **grid_of(person))
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    view = json.dumps(desk.slack.last("views.publish").args["view"])
    others = [t.ref for t in all_tickets(desk) if t.ref != ref]
    assert not any(other in view for other in others)
    return all_tickets(desk)[-1].council_id if ref in view else None


def by_rating(desk: Desk, person: Person) -> Outcome:
    ref = seed(desk, person)
    with unit_of_work(desk.engine) as session:
        tickets.resolve(session, ref=ref, note="Replaced the PIN pad", actor=ENGINEER, at=desk.clock.now())
        council = queries.get_ticket(session, ref).council_id
    value = RatingValue(ref=ref, score=5).dump()
    interact(desk, desk.driver.block_action(f"{Action.RATE}.5", user=person.user, user_team=person.workspace,
                                            value=value, channel=person.channel, **grid_of(person)))
    with unit_of_work(desk.engine) as session:
        ratings = session.exec(select(TicketRatingRow)).all()
    return council if [(r.rated_by, r.score) for r in ratings] == [(person.user, 5)] else None


PATHS: dict[str, Callable[[Desk, Person], Outcome]] = {
    "message": by_message, "message-organisation-in-user-team": by_message_with_organisation_in_user_team,
    "thread-reply": by_thread_reply, "file-share": by_file_share, "reaction": by_reaction,
    "shortcut": by_shortcut, "desk-command": by_slash_command, "button": by_button, "select": by_select,
    "modal-submission": by_modal_submission, "app-home": by_app_home, "csat-rating": by_rating,
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who", PEOPLE)
def test_every_path_places_the_person_in_their_council_or_refuses_them(grid: Desk, who: str, path: str) -> None:
    person = PEOPLE[who]
    assert PATHS[path](grid, person) == person.council
    if person.council is None:  # nothing of a council's reached the stranger, nor a ticket of theirs
        said = json.dumps([c.args for c in grid.slack.calls
                           if c.args.get("channel") == person.user or c.args.get("user_id") == person.user
                           or c.args.get("user") == person.user or c.method in ("views.open", "response_url")])
        assert "BCC-" not in said and "Seeded" not in said, said
        assert all(t.council_id == "belfast" for t in all_tickets(grid))


# --- a few shapes worth their own test --------------------------------------------------------------------

def test_a_workspace_whose_organisation_only_slack_knows_is_looked_up_once(grid: Desk) -> None:
    """An event whose envelope is all the installation's side names only the author's workspace: desk asks
    team.info which organisation that is (Kent is listed by organisation alone), and remembers."""
    kit = PEOPLE["d-grid-two-workspaces-1"]
    for text in ("Refund failed", "Another refund failed"):
        body = grid.driver.message(text, user=kit.user, user_team=kit.workspace, channel=kit.channel,
                                   shared_channel=True)
        body["team_id"], body["enterprise_id"] = "T0SUPPORT", SUPPORT_ORG  # the installation's side
        assert grid.driver.send_event(body).status == 200
        grid.settle()
    assert [(t.ref, t.council_id) for t in all_tickets(grid)] == [("KCC-1", "kent"), ("KCC-2", "kent")]
    assert [c.args["team"] for c in grid.slack.calls_to("team.info")] == [kit.workspace]


def test_ids_pointing_at_two_councils_are_refused_with_a_log_line(grid: Desk,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A Fife workspace that Slack says is in Belfast's organisation: listed twice, so placed nowhere."""
    stray = Person("W0STRAY001", "T0FIFE0001", "E0BELFAST1", "C0FIFE0001", None)
    grid.slack.users[stray.user] = {"id": stray.user, "team_id": stray.workspace, "name": "stray"}
    with caplog.at_level(logging.WARNING, logger="desk.tenancy"):
        assert by_message(grid, stray) is None
        assert by_slash_command(grid, stray) is None
    assert all_tickets(grid) == []
    refusals = [r.getMessage() for r in caplog.records if r.name == "desk.tenancy"]
    assert refusals and all("T0FIFE0001 is council fife's and E0BELFAST1 is council belfast's" in line
                            for line in refusals), refusals


def test_support_is_found_by_organisation_from_any_of_its_workspaces(grid: Desk) -> None:
    ref = seed(grid, PEOPLE["b-grid-by-organisation"])
    grid.slack.users["W0ENGINEER3"] = {"id": "W0ENGINEER3", "team_id": "T0SUPPORT2", "name": "eng3"}
    grid.slack.teams["T0SUPPORT2"] = {"enterprise_id": SUPPORT_ORG}
    with unit_of_work(grid.engine) as session:
        card_ts = queries.get_ticket(session, ref).card_ts
    interact(grid, grid.driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                            message_ts=card_ts, value=TicketRef(ref=ref).dump(),
                                            enterprise_id=SUPPORT_ORG))
    assert all_tickets(grid)[0].assignee == ENGINEER


def test_an_unknown_organisation_is_logged_with_the_ids_to_list(grid: Desk,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """docs/slack-setup.md: how an operator finds a new council's ids."""
    with caplog.at_level(logging.INFO, logger="desk.tenancy"):
        assert by_message(grid, PEOPLE["e-unknown-grid-organisation"]) is None
    assert ("nobody desk serves: W0MALLORY1 (organisation T0OUTSIDE1/E0OUTSIDE1): organisation "
            "T0OUTSIDE1/E0OUTSIDE1 is not a partner") in [r.getMessage() for r in caplog.records]


def test_organisation_fields_of_the_wrong_type_get_400_and_change_nothing(grid: Desk) -> None:
    bella = PEOPLE["b-grid-by-organisation"]
    message = grid.driver.message("hi", user=bella.user, user_team=bella.workspace, channel=bella.channel,
                                  enterprise_id=bella.organisation, grid_shape="organisation")
    message["event"]["source_team"] = [bella.organisation]
    click = grid.driver.block_action(Action.NEW_REQUEST, user=bella.user, user_team=bella.workspace,
                                     view={"id": "V0HOMEVIEW", "type": "home", "blocks": []},
                                     enterprise_id=bella.organisation)
    click["team"]["enterprise_id"] = 42
    assert grid.driver.send_event(message).status == 400
    assert grid.driver.send_interaction(click).status == 400
    grid.settle()
    assert all_tickets(grid) == [] and grid.slack.calls_to("views.open") == []
