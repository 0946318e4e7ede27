"""Issue 12, finding 5: a council member cannot make another council's message their own ticket.

Before, a :ticket: reaction or the message shortcut by a Cherwell member, on a Fife member's message in a
channel that was not Cherwell's, opened a Cherwell ticket with Fife's text and the Fife member as
requester. Now intake by council members happens only in their own council's channels, for their own
council's messages; the requester is the acting person unless the message's author is of the same council.
"""

from __future__ import annotations

from desk.slack.ids import Shortcut
from tests.processes import eventually
from tests.security.conftest import (
    ALICE,
    ALICE2,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    SHARED_CHANNEL,
    SUPPORT,
    Served,
)


def react(served: Served, user: str, team: str, message: dict) -> None:
    event = message["event"]
    served.event(served.driver.reaction_added("ticket", user=user, user_team=team, channel=event["channel"],
                                              item_ts=event["ts"], item_user=event["user"]))


def shortcut(served: Served, user: str, team: str, message: dict) -> None:
    event = message["event"]
    served.interact(served.driver.message_shortcut(Shortcut.FROM_MESSAGE, user=user, user_team=team,
                                                   channel=event["channel"], message=event))


def test_another_councils_message_never_becomes_a_ticket(served: Served) -> None:
    bruce_shared = served.said("Fife's BACS file was rejected: reference FIF-778", user=BRUCE, team=FIFE,
                               channel=SHARED_CHANNEL)
    bruce_in_cherwell = served.said("Fife here: is your direct debit run late too?", user=BRUCE, team=FIFE,
                                    channel=CHERWELL_CHANNEL)  # opens nothing: Bruce is not Cherwell's
    alice_shared = served.said("Cherwell question about the shared upgrade", user=ALICE, team=CHERWELL,
                               channel=SHARED_CHANNEL)
    start = len(served.slack.calls)
    before = served.chains()

    attempts = [
        (lambda: react(served, ALICE, CHERWELL, bruce_shared), "not your council's"),
        (lambda: shortcut(served, ALICE, CHERWELL, bruce_shared), "not your council's"),
        (lambda: react(served, ALICE, CHERWELL, bruce_in_cherwell), "another council"),
        (lambda: shortcut(served, ALICE, CHERWELL, bruce_in_cherwell), "another council"),
        (lambda: react(served, ALICE, CHERWELL, alice_shared), "not your council's"),  # her own, wrong channel
        (lambda: served.command("", user=ALICE, team=CHERWELL, channel=SHARED_CHANNEL), "not your council's"),
    ]
    for attempt, phrase in attempts:
        mark = len(served.slack.calls)
        attempt()
        served.told(ALICE, phrase, after=mark)

    assert served.tickets() == [] and served.chains() == before
    assert [c.method for c in served.slack.calls[start:] if c.method == "views.open"] == []


def test_the_requester_is_the_author_only_when_the_author_is_of_the_same_council(served: Served) -> None:
    # Ann's reply in an ordinary thread (an engineer's post, not a ticket's): Alice makes it a ticket, and
    # Ann is the requester (the ticket lives in that thread: a reply's ticket is its parent's)
    root = served.said("Reminder: the card terminals update tonight", user=ENGINEER, team=SUPPORT,
                       channel=CHERWELL_CHANNEL)
    ann_reply = served.said("Also: the card terminal at Bodicote is offline", user=ALICE2, team=CHERWELL,
                            channel=CHERWELL_CHANNEL, thread_ts=root["event"]["ts"])
    react(served, ALICE, CHERWELL, ann_reply)
    eventually(lambda: len(served.tickets()) == 1, "Alice's :ticket: on Ann's reply", timeout=20)
    assert served.show("CHW-1")["requester"] == ALICE2

    # an engineer's message in Cherwell's channel: Alice's :ticket: makes it Cherwell's, with Alice asking
    engineer_note = served.said("Heads up: GOV.UK Pay maintenance tonight", user=ENGINEER, team=SUPPORT,
                                channel=CHERWELL_CHANNEL)
    react(served, ALICE, CHERWELL, engineer_note)
    eventually(lambda: len(served.tickets()) == 2, "Alice's :ticket: on the engineer's note", timeout=20)
    shown = served.show("CHW-2")
    assert (shown["council"], shown["requester"]) == ("cherwell", ALICE)

    # support staff's :ticket: in a council channel: the author asks, as always
    other_root = served.said("Office closed on Friday afternoon", user=ENGINEER, team=SUPPORT,
                             channel=CHERWELL_CHANNEL)
    alice_thread_reply = served.said("And the Banbury one froze too", user=ALICE, team=CHERWELL,
                                     channel=CHERWELL_CHANNEL, thread_ts=other_root["event"]["ts"])
    react(served, ENGINEER, SUPPORT, alice_thread_reply)
    eventually(lambda: len(served.tickets()) == 3, "the engineer's :ticket: on Alice's reply", timeout=20)
    assert served.show("CHW-3")["requester"] == ALICE
