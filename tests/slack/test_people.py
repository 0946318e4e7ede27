"""Who sees what: escaping of what people type, tenant isolation, and the surfaces each person gets."""

from __future__ import annotations

import json

import pytest

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.slack.ids import Block, Input, Shortcut, View
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    FIFE_CHANNEL,
    MALLORY,
    SUPPORT,
    TRIAGE,
    Desk,
)

HOSTILE = ("Help <!channel> <!here> <@U0ENGINEER2> <!subteam^S0DUTY|duty> "
           "see <https://evil.example|click here> &amp; <#C0TRIAGE>")
LIVE = ("<!channel>", "<!here>", "<@U0ENGINEER2>", "<!subteam", "<https://evil.example", "<#C0TRIAGE>")


def refs(desk: Desk) -> list[str]:
    with unit_of_work(desk.engine) as session:
        return [t.ref for t in queries.list_tickets(session)]


def say(desk: Desk, text: str, *, user: str = ALICE, team: str = CHERWELL, channel: str = CHERWELL_CHANNEL,
        thread_ts: str | None = None) -> dict:
    body = desk.driver.message(text, user=user, user_team=team, channel=channel, thread_ts=thread_ts)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return body


def everything_desk_sent(desk: Desk) -> str:
    return json.dumps([c.args for c in desk.slack.calls])


def test_typed_mentions_and_links_never_go_live(desk: Desk) -> None:
    say(desk, HOSTILE + "\n" + HOSTILE)
    sent = everything_desk_sent(desk)
    assert "CHW-1" in sent
    for markup in LIVE:
        assert markup not in sent, markup
    for call in desk.slack.calls_to("chat.postMessage"):
        assert "link_names" not in call.args and call.args.get("parse") != "full"


def test_text_longer_than_block_kit_allows_is_shortened_not_rejected(desk: Desk) -> None:
    say(desk, "Reconciliation mismatch " + "x" * 45_000)
    assert refs(desk) == ["CHW-1"]
    assert all(c.ok for c in desk.slack.calls_to("chat.postMessage"))  # the stand-in checks every limit


def test_an_unknown_organisation_gets_nothing(desk: Desk) -> None:
    say(desk, "We cannot take payments", user=MALLORY, team="T0OUTSIDER")
    home = desk.driver.app_home_opened(user=MALLORY, user_team="T0OUTSIDER")
    assert desk.driver.send_event(home).status == 200
    desk.settle()
    assert refs(desk) == []
    published = desk.slack.last("views.publish").args["view"]
    assert "CHW" not in json.dumps(published)


def test_a_council_member_in_another_councils_channel_opens_nothing(desk: Desk) -> None:
    say(desk, "We cannot take payments", user=ALICE, team=CHERWELL, channel=FIFE_CHANNEL)
    assert refs(desk) == []


def test_support_staff_posting_in_a_council_channel_do_not_open_tickets(desk: Desk) -> None:
    say(desk, "Planned maintenance tonight 22:00-23:00", user=ENGINEER, team=SUPPORT)
    assert refs(desk) == []


@pytest.fixture
def two_councils(desk: Desk) -> Desk:
    say(desk, "Refund failed for a resident", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    say(desk, "Direct debit run failed last night", user=BRUCE, team=FIFE, channel=FIFE_CHANNEL)
    assert refs(desk) == ["CHW-1", "FIFE-1"]
    desk.slack.reset()
    return desk


def command(desk: Desk, text: str, *, user: str, team: str, channel: str) -> str:
    body = desk.driver.slash_command(text, user=user, user_team=team, channel=channel)
    assert desk.driver.send_form(body).status == 200
    desk.settle()
    return json.dumps(desk.slack.calls_to("response_url")[-1].args)


def test_desk_status_never_shows_another_councils_ticket(two_councils: Desk) -> None:
    desk = two_councils
    assert "FIFE-1" in command(desk, "status FIFE-1", user=BRUCE, team=FIFE, channel=FIFE_CHANNEL)
    answer = command(desk, "status FIFE-1", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert "no ticket FIFE-1" in answer and "Direct debit" not in answer
    assert "no ticket" in command(desk, "status fife-1", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)


def test_desk_list_shows_only_your_councils_tickets(two_councils: Desk) -> None:
    answer = command(two_councils, "list", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert "CHW-1" in answer and "FIFE-1" not in answer
    support = command(two_councils, "list", user=ENGINEER, team=SUPPORT, channel=TRIAGE)
    assert "CHW-1" in support and "FIFE-1" in support


def test_app_home_for_a_council_shows_only_its_tickets(two_councils: Desk) -> None:
    desk = two_councils
    desk.driver.send_event(desk.driver.app_home_opened(user=BRUCE, user_team=FIFE))
    desk.settle()
    view = json.dumps(desk.slack.last("views.publish").args["view"])
    assert "FIFE-1" in view and "CHW-1" not in view and "Refund" not in view


def test_app_home_for_support_shows_the_queues(two_councils: Desk) -> None:
    desk = two_councils
    desk.driver.send_event(desk.driver.app_home_opened(user=ENGINEER, user_team=SUPPORT))
    desk.settle()
    view = json.dumps(desk.slack.last("views.publish").args["view"])
    assert "CHW-1" in view and "FIFE-1" in view and "Unassigned" in view


def test_internal_notes_in_the_card_thread_never_reach_the_council(desk: Desk) -> None:
    say(desk, "Refund failed for a resident")
    with unit_of_work(desk.engine) as session:
        card_ts = queries.get_ticket(session, "CHW-1").card_ts
    desk.slack.reset()
    say(desk, "Bank says the file was malformed; do not tell them yet", user=ENGINEER, team=SUPPORT,
        channel=TRIAGE, thread_ts=card_ts)
    with unit_of_work(desk.engine) as session:
        events = queries.list_ticket_events(session, queries.get_ticket(session, "CHW-1").id)
    assert events[-1].type == "noted" and events[-1].data["text"].startswith("Bank says")
    assert all(c.args.get("channel") != CHERWELL_CHANNEL for c in desk.slack.calls)


def test_slash_desk_opens_a_form_and_the_submission_opens_a_thread(desk: Desk) -> None:
    body = desk.driver.slash_command("", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert desk.driver.send_form(body).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.INTAKE
    assert "council" not in json.dumps(modal).lower().replace("council comes", "")
    submit = desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL,
                                         private_metadata=modal["private_metadata"],
                                         values={Block.TITLE: {Input.VALUE: "Monthly income report please"},
                                                 Block.DESCRIPTION: {Input.VALUE: "For the finance board"}})
    assert desk.driver.send_interaction(submit).status == 200
    assert desk.driver.send_interaction(submit).status == 200  # a double submit
    desk.settle()
    assert refs(desk) == ["CHW-1"]
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
    root = next(c for c in desk.slack.calls_to("chat.postMessage") if c.args["channel"] == CHERWELL_CHANNEL
                and "thread_ts" not in c.args)
    assert ticket.slack_ts == root.response["ts"]  # desk's post is the council thread


def test_an_empty_title_is_refused_on_the_form(desk: Desk) -> None:
    submit = desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
                                         values={Block.TITLE: {Input.VALUE: "   "}})
    response = desk.driver.send_interaction(submit)
    assert response.status == 200 and response.json()["response_action"] == "errors"
    assert Block.TITLE in response.json()["errors"]


def test_the_message_shortcut_prefills_the_form_and_links_the_message(desk: Desk) -> None:
    message = desk.driver.message_event("GOV.UK Pay is timing out on the parking permits form", user=ALICE,
                                        user_team=CHERWELL, channel=CHERWELL_CHANNEL, thread_ts="1767600000.000100")
    shortcut = desk.driver.message_shortcut(Shortcut.FROM_MESSAGE, user=ENGINEER, user_team=SUPPORT,
                                            channel=CHERWELL_CHANNEL, message=message)
    assert desk.driver.send_interaction(shortcut).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    assert "GOV.UK Pay is timing out" in json.dumps(modal)
    submit = desk.driver.view_submission(View.INTAKE, user=ENGINEER, user_team=SUPPORT,
                                         private_metadata=modal["private_metadata"],
                                         values={Block.TITLE: {Input.VALUE: "GOV.UK Pay timing out"}})
    desk.driver.send_interaction(submit)
    desk.settle()
    with unit_of_work(desk.engine) as session:
        ticket = queries.get_ticket(session, "CHW-1")
    # The message is a reply: its ticket lives in the thread of its parent, where later replies land.
    assert (ticket.requester, ticket.slack_ts) == (ALICE, "1767600000.000100")


def test_the_ticket_reaction_opens_one_ticket_for_the_authors_message(desk: Desk) -> None:
    ts = "1767600000.000200"
    desk.slack.messages[(CHERWELL_CHANNEL, ts)] = {
        "type": "message", "user": ALICE, "text": "Cash book will not balance for November", "ts": ts}
    for reactor, team in ((ENGINEER, SUPPORT), (ALICE, CHERWELL)):
        body = desk.driver.reaction_added("ticket", user=reactor, user_team=team, channel=CHERWELL_CHANNEL,
                                          item_ts=ts, item_user=ALICE)
        assert desk.driver.send_event(body).status == 200
        desk.settle()
    with unit_of_work(desk.engine) as session:
        tickets = list(queries.list_tickets(session))
    assert [(t.ref, t.requester, t.title) for t in tickets] == [
        ("CHW-1", ALICE, "Cash book will not balance for November")]
