"""A ticket's life after resolution, through signed requests to the running app and the worker:
no council message is dropped (reopen, follow-up), "Not fixed", and closing on the contract's instant.

Timeline: CHW-1 opened Mon 5 Jan 2026 09:00 (GMT), resolved 10:00; `close_after_days: 5` on Mon-Thu
09:00-17:00 (with lunch) / Fri 09:00-16:30: Tue, Wed, Thu, Fri, Mon, so it closes Mon 12 Jan 17:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    SUPPORT,
    TRIAGE,
    Desk,
)

CLOSES = datetime(2026, 1, 12, 17, 0, tzinfo=UTC)


def ticket(desk: Desk, ref: str):
    with unit_of_work(desk.engine) as session:
        found = queries.get_ticket(session, ref)
        return found, [(e.type, e.actor, e.data) for e in queries.list_ticket_events(session, found.id)]


def say(desk: Desk, text: str, *, user: str = ALICE, team: str = CHERWELL, thread_ts: str | None = None) -> dict:
    body = desk.driver.message(text, user=user, user_team=team, channel=CHERWELL_CHANNEL, thread_ts=thread_ts)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    return body


def opened_and_resolved(desk: Desk, note: str = "Replaced the PIN pad") -> str:
    """CHW-1 raised by Alice, resolved by an engineer at 10:00 through the card and the modal; its thread ts."""
    thread_ts = say(desk, "We cannot take card payments at the Banbury counter")["event"]["ts"]
    desk.clock.at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    card_ts = ticket(desk, "CHW-1")[0].card_ts
    click = desk.driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=card_ts)
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    modal = desk.slack.last("views.open").args["view"]
    submit = desk.driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                         private_metadata=modal["private_metadata"],
                                         values={Block.RESOLUTION: {Input.VALUE: note}})
    assert desk.driver.send_interaction(submit).status == 200
    desk.settle()
    return thread_ts


def thread_posts(desk: Desk, thread_ts: str, *, containing: str) -> list:
    return [c for c in desk.slack.calls_to("chat.postMessage")
            if c.ok and c.args.get("thread_ts") == thread_ts and containing in json.dumps(c.args)]


def buttons(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def resolution_now(desk: Desk, thread_ts: str) -> dict:
    """The resolution message as Slack now holds it (posted, then perhaps updated)."""
    found, _ = ticket(desk, "CHW-1")
    return desk.slack.messages[(CHERWELL_CHANNEL, found.resolution_ts)]


def told(desk: Desk) -> str:
    """What desk told the person who clicked, only to them (an ephemeral message)."""
    return json.dumps([c.args for c in desk.slack.calls_to("chat.postEphemeral") + desk.slack.calls_to("response_url")])


def run_worker(desk: Desk) -> dict:
    return desk.wiring.worker(channel_pace=0, enqueue_digests=None).run_once()


def test_resolving_sets_the_close_instant_and_offers_not_fixed(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    found, events = ticket(desk, "CHW-1")
    assert found.close_due_at == CLOSES
    assert events[-1][0] == "resolved" and events[-1][2]["close_due_at"] == CLOSES.isoformat()
    [resolution] = thread_posts(desk, thread_ts, containing="Replaced the PIN pad")
    assert buttons(resolution.args["blocks"])[-1] == Action.NOT_FIXED
    assert "Otherwise it closes Mon 12 Jan 17:00" in json.dumps(resolution.args["blocks"])
    assert found.resolution_ts == resolution.response["ts"]


def test_a_council_reply_after_resolution_reopens_and_says_so(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.clock.advance(hours=1)
    reply = say(desk, "Still declining cards at till 2", thread_ts=thread_ts)
    found, events = ticket(desk, "CHW-1")
    assert found.status == "in_progress" and found.close_due_at is None and found.resolved_at is None
    kind, actor, data = events[-1]
    assert (kind, actor, data["reason"], data["via"], data["cycle"]) == (
        "reopened", ALICE, "Still declining cards at till 2", "thread", 2)
    [notice] = thread_posts(desk, thread_ts, containing="is reopened and back with the support team")
    assert "We aim to resolve it by" in json.dumps(notice.args["blocks"])
    assert buttons(resolution_now(desk, thread_ts)["blocks"]) == [], "no rating or reopening of a reopened ticket"
    assert "CHW-1 was reopened" in json.dumps(resolution_now(desk, thread_ts)["blocks"])
    assert reply["event"]["text"] in json.dumps(ticket(desk, "CHW-1")[1])


def test_a_redelivered_reopening_message_has_one_effect(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    body = desk.driver.message("Still broken", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                               thread_ts=thread_ts)
    first = desk.driver.send_event(body)
    desk.settle()
    assert desk.driver.redeliver(first).status == 200
    desk.settle()
    _, events = ticket(desk, "CHW-1")
    assert [e[0] for e in events].count("reopened") == 1
    assert len(thread_posts(desk, thread_ts, containing="is reopened")) == 1


def test_support_speaking_in_a_resolved_thread_is_a_note_and_changes_nothing(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    say(desk, "Glad that sorted it", user=ENGINEER, team=SUPPORT, thread_ts=thread_ts)
    found, events = ticket(desk, "CHW-1")
    assert found.status == "resolved" and found.close_due_at == CLOSES
    assert events[-1][0] == "noted" and events[-1][2] == {"text": "Glad that sorted it", "where": "council_thread"}


def test_someone_from_another_organisation_cannot_reopen(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    say(desk, "reopen please", user=BRUCE, team=FIFE, thread_ts=thread_ts)
    found, events = ticket(desk, "CHW-1")
    assert found.status == "resolved" and events[-1][0] == "resolved"


def test_the_worker_closes_at_the_contract_instant_and_tells_the_council(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.clock.at = CLOSES - timedelta(seconds=1)
    assert run_worker(desk)["closed"] == 0
    assert ticket(desk, "CHW-1")[0].status == "resolved"

    desk.clock.at = CLOSES + timedelta(seconds=30)  # the first pass at or after the instant
    desk.slack.reset()
    assert run_worker(desk)["closed"] == 1
    found, events = ticket(desk, "CHW-1")
    assert (found.status, found.closed_at, found.close_due_at) == ("closed", CLOSES + timedelta(seconds=30), None)
    kind, actor, data = events[-1]
    assert (kind, actor, data) == ("closed", "desk", {"from": "resolved", "due_at": CLOSES.isoformat()})
    assert len(thread_posts(desk, thread_ts, containing="is now closed")) == 1
    resolution = resolution_now(desk, thread_ts)
    assert Action.NOT_FIXED not in buttons(resolution["blocks"]) and f"{Action.RATE}.5" in buttons(resolution["blocks"])
    card = desk.slack.messages[(TRIAGE, found.card_ts)]
    assert "Closed" in json.dumps(card["blocks"]) and buttons(card["blocks"]) == []

    assert run_worker(desk)["closed"] == 0, "a second pass closes nothing and tells nobody twice"
    assert len(thread_posts(desk, thread_ts, containing="is now closed")) == 1


def test_a_council_message_in_a_closed_thread_opens_a_linked_follow_up(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.clock.at = CLOSES + timedelta(minutes=1)
    run_worker(desk)
    desk.clock.at = datetime(2026, 1, 14, 11, 0, tzinfo=UTC)
    say(desk, "It's happening again on the Bicester counter\nSince this morning", thread_ts=thread_ts)

    old, _ = ticket(desk, "CHW-1")
    follow_up, events = ticket(desk, "CHW-2")
    assert old.status == "closed"
    assert follow_up.follow_up_of == old.id and follow_up.requester == ALICE
    assert follow_up.title == "Follow-up to CHW-1: It's happening again on the Bicester counter"
    assert events[0][2]["follow_up_of"] == old.id
    # its own thread, in the same channel, naming the old ticket; then the usual confirmation
    root = next(c for c in desk.slack.calls_to("chat.postMessage")
                if c.ok and c.args["channel"] == CHERWELL_CHANNEL and "thread_ts" not in c.args)
    assert "Follow-up to CHW-1" in json.dumps(root.args["blocks"])
    assert (follow_up.slack_channel, follow_up.slack_ts) == (CHERWELL_CHANNEL, root.response["ts"])
    assert thread_posts(desk, root.response["ts"], containing="Thanks, this is *CHW-2*")
    # the old thread points at it, with a link
    [pointer] = thread_posts(desk, thread_ts, containing="as a follow-up for your message")
    assert "in its own thread>" in json.dumps(pointer.args["blocks"])
    # and the cards name each other
    assert "Follow-up to CHW-1" in json.dumps(desk.slack.messages[(TRIAGE, follow_up.card_ts)]["blocks"])
    assert "Follow-up: CHW-2" in json.dumps(desk.slack.messages[(TRIAGE, old.card_ts)]["blocks"])

    # a second message there goes to the follow-up, not to a third ticket
    desk.clock.advance(minutes=10)
    say(desk, "Also the Kidlington one", thread_ts=thread_ts)
    with unit_of_work(desk.engine) as session:
        assert [t.ref for t in queries.list_tickets(session)] == ["CHW-1", "CHW-2"]
    _, events = ticket(desk, "CHW-2")
    assert events[-1][:2] == ("commented", ALICE) and events[-1][2]["text"] == "Also the Kidlington one"
    assert thread_posts(desk, thread_ts, containing="Added to *CHW-2*, the follow-up to CHW-1")

    # support speaking in the closed thread: a note on the closed ticket, nothing reopened
    say(desk, "We'll follow up in CHW-2", user=ENGINEER, team=SUPPORT, thread_ts=thread_ts)
    old, events = ticket(desk, "CHW-1")
    assert old.status == "closed" and events[-1][0] == "noted"


def test_not_fixed_asks_why_and_reopens_with_the_councils_words(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    [resolution] = thread_posts(desk, thread_ts, containing="Replaced the PIN pad")
    button = next(e for b in resolution.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == Action.NOT_FIXED)

    def press(user: str, team: str):
        desk.slack.reset()
        click = desk.driver.block_action(Action.NOT_FIXED, user=user, user_team=team, value=button["value"],
                                         channel=CHERWELL_CHANNEL, message_ts=resolution.response["ts"],
                                         thread_ts=thread_ts)
        assert desk.driver.send_interaction(click).status == 200
        desk.settle()

    for outsider, team in ((ENGINEER, SUPPORT), (BRUCE, FIFE)):
        press(outsider, team)
        assert desk.slack.calls_to("views.open") == [], f"{outsider} may not say it is not fixed"
        assert "only the council that raised a ticket can say it is not fixed" in told(desk)
        assert ticket(desk, "CHW-1")[0].status == "resolved"

    press(ALICE, CHERWELL)
    modal = desk.slack.last("views.open").args["view"]
    assert modal["callback_id"] == View.NOT_FIXED
    desk.clock.advance(hours=2)
    submit = desk.driver.view_submission(View.NOT_FIXED, user=ALICE, user_team=CHERWELL,
                                         private_metadata=modal["private_metadata"],
                                         values={Block.REASON: {Input.VALUE: "Till 2 still declines"}})
    assert desk.driver.send_interaction(submit).status == 200
    assert desk.driver.redeliver(desk.driver.send_interaction(submit)).status == 200  # a double submit
    desk.settle()
    found, events = ticket(desk, "CHW-1")
    assert found.status == "in_progress"
    reopened = [e for e in events if e[0] == "reopened"]
    assert len(reopened) == 1 and reopened[0][1:] == (ALICE, {"reason": "Till 2 still declines",
                                                             "cycle": 2, "via": "not_fixed"})
    assert len(thread_posts(desk, thread_ts, containing="is reopened")) == 1
    assert buttons(resolution_now(desk, thread_ts)["blocks"]) == []


def test_not_fixed_after_the_close_is_refused_with_the_way_forward(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    [resolution] = thread_posts(desk, thread_ts, containing="Replaced the PIN pad")
    desk.clock.at = CLOSES
    run_worker(desk)
    desk.slack.reset()
    click = desk.driver.block_action(Action.NOT_FIXED, user=ALICE, user_team=CHERWELL,
                                     value=TicketRef(ref="CHW-1").dump(), channel=CHERWELL_CHANNEL,
                                     message_ts=resolution.response["ts"])
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    assert desk.slack.calls_to("views.open") == []
    assert "CHW-1 is closed: reply in its thread" in told(desk)
    assert ticket(desk, "CHW-1")[0].status == "closed"


def test_a_reopening_notice_slack_refused_is_posted_by_the_worker(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.slack.inject("chat.postMessage", status=500, error="internal_error")
    say(desk, "Still declining cards at till 2", thread_ts=thread_ts)
    assert ticket(desk, "CHW-1")[0].status == "in_progress", "the council's words were recorded regardless"
    assert thread_posts(desk, thread_ts, containing="is reopened") == []
    with unit_of_work(desk.engine) as session:
        [handed] = [row for row in session.exec(select(OutboxRow)).all() if row.kind == "reopened"]
        assert handed.status == "pending" and handed.payload == {"ref": "CHW-1"}
    run_worker(desk)
    assert len(thread_posts(desk, thread_ts, containing="is reopened")) == 1
    with unit_of_work(desk.engine) as session:
        assert session.get(OutboxRow, handed.id).status == "sent"


def test_a_file_without_words_in_a_resolved_thread_still_reopens(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    body = desk.driver.message("", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL, thread_ts=thread_ts,
                               subtype="file_share", files=[{"id": "F0SCREEN01", "name": "till2.png"}])
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    found, events = ticket(desk, "CHW-1")
    assert found.status == "in_progress"
    assert events[-1][0] == "reopened" and events[-1][2]["reason"] == "(a message with no text, such as a file)"


def test_support_reopening_from_the_card_tells_the_thread_and_retires_not_fixed(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    found, _ = ticket(desk, "CHW-1")
    click = desk.driver.block_action(Action.REOPEN, user=ENGINEER, user_team=SUPPORT,
                                     value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE, message_ts=found.card_ts)
    assert desk.driver.send_interaction(click).status == 200
    desk.settle()
    found, events = ticket(desk, "CHW-1")
    assert found.status == "in_progress" and events[-1][2]["via"] == "card"
    assert len(thread_posts(desk, thread_ts, containing="is reopened")) == 1
    assert buttons(resolution_now(desk, thread_ts)["blocks"]) == []
    assert "Resolve" in json.dumps(desk.slack.messages[(TRIAGE, found.card_ts)]["blocks"])


def test_a_reply_after_the_instant_but_before_the_worker_reopens_instead(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.clock.at = CLOSES + timedelta(minutes=10)  # the worker has not passed yet
    say(desk, "Sorry, one more thing: till 3 too", thread_ts=thread_ts)
    assert ticket(desk, "CHW-1")[0].status == "in_progress"
    assert run_worker(desk)["closed"] == 0
    assert ticket(desk, "CHW-1")[0].status == "in_progress"


def test_a_follow_up_out_of_hours_says_when_work_starts(desk: Desk) -> None:
    thread_ts = opened_and_resolved(desk)
    desk.clock.at = CLOSES
    run_worker(desk)
    desk.clock.at = datetime(2026, 1, 17, 10, 0, tzinfo=UTC)  # a Saturday
    say(desk, "Broken again this morning", thread_ts=thread_ts)
    follow_up, _ = ticket(desk, "CHW-2")
    [confirmation] = thread_posts(desk, follow_up.slack_ts, containing="Thanks, this is *CHW-2*")
    assert "we'll pick this up from Mon 19 Jan 09:00" in json.dumps(confirmation.args["blocks"])
