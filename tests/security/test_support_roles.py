"""Issue 12, finding 1: being in the support team's workspace makes nobody support.

Before, `tenancy.resolve` treated everyone whose organisation was `support.team` as support: a clerk or a
guest there could list every council's tickets, claim, assign, reprioritise, resolve and reopen them, post
"public replies" that stop the respond clock, write internal notes and see the support queues. Now the
powers belong to the people the registry names (by id, or through a user group Slack expands), and a user
group Slack cannot list right now grants nothing until it can.
"""

from __future__ import annotations

import json

from desk.sandbox.interactions import option, static_select_value
from desk.slack.ids import Action, Block, Input, Shortcut, View
from desk.slack.metadata import TicketRef
from tests.processes import eventually
from tests.security.conftest import (
    ALICE,
    CHERWELL,
    CHERWELL_CHANNEL,
    CLERK,
    ENGINEER,
    GROUP_ENGINEER,
    SUPPORT,
    TRIAGE,
    Served,
)

NOT_ON_TEAM = "not on the support team"


def claim(served: Served, user: str, ref: str, card_ts: str) -> dict:
    return served.interact(served.driver.block_action(Action.CLAIM, user=user, user_team=SUPPORT,
                                                      value=TicketRef(ref=ref).dump(), channel=TRIAGE,
                                                      message_ts=card_ts))


def assign_menu(blocks: list[dict]) -> list[str]:
    """The people the card's Assign menu offers."""
    return [o["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == Action.ASSIGN for o in e["options"]]


def resolved_by_engineer(served: Served, ref: str, card_ts: str) -> None:
    served.interact(served.driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                               value=TicketRef(ref=ref).dump(), channel=TRIAGE,
                                               message_ts=card_ts))
    modal = served.slack.wait_for("views.open", timeout=20)[-1].args["view"]
    served.interact(served.driver.view_submission(
        View.RESOLVE, user=ENGINEER, user_team=SUPPORT, private_metadata=modal["private_metadata"],
        values={Block.RESOLUTION: {Input.VALUE: "Merchant account re-enabled"}}))
    eventually(lambda: served.show(ref)["status"] == "resolved", f"{ref} resolved by the engineer", timeout=20)


def test_a_support_workspace_member_who_is_not_on_the_team_can_do_nothing_support_does(served: Served) -> None:
    thread_ts, card_ts = served.open_ticket("We cannot take card payments at the Banbury counter", ref="CHW-1")
    _, resolved_card_ts = served.open_ticket("Direct debit run failed overnight", ref="CHW-2")
    resolved_by_engineer(served, "CHW-2", resolved_card_ts)
    # an engineer's own message in the council's channel opens nothing: something the clerk could :ticket:
    engineer_note = served.said("FYI: GOV.UK Pay maintenance tonight 22:00-23:00", user=ENGINEER, team=SUPPORT,
                                channel=CHERWELL_CHANNEL)
    eventually(lambda: served.slack.calls_to("chat.update"), "the resolved card updated", timeout=20)
    before = {"chains": served.chains(), "CHW-1": served.show("CHW-1"), "CHW-2": served.show("CHW-2"),
              "tickets": len(served.tickets())}
    start = len(served.slack.calls)

    driver, one, two = served.driver, TicketRef(ref="CHW-1").dump(), TicketRef(ref="CHW-2").dump()
    attempts: list[tuple[str, dict, str]] = [
        ("claim", driver.block_action(Action.CLAIM, user=CLERK, user_team=SUPPORT, value=one, channel=TRIAGE,
                                      message_ts=card_ts), NOT_ON_TEAM),
        ("assign", driver.block_action(Action.ASSIGN, user=CLERK, user_team=SUPPORT, channel=TRIAGE,
                                       message_ts=card_ts, block_id=one,
                                       selected_option=option(CLERK, "Chris Clerk")), NOT_ON_TEAM),
        ("status", driver.block_action(Action.SET_STATUS, user=CLERK, user_team=SUPPORT, channel=TRIAGE,
                                       message_ts=card_ts, block_id=one,
                                       selected_option=option("waiting_on_council")), NOT_ON_TEAM),
        ("priority button", driver.block_action(Action.CHANGE_PRIORITY, user=CLERK, user_team=SUPPORT,
                                                value=one, channel=TRIAGE, message_ts=card_ts), NOT_ON_TEAM),
        ("resolve button", driver.block_action(Action.RESOLVE, user=CLERK, user_team=SUPPORT, value=one,
                                               channel=TRIAGE, message_ts=card_ts), NOT_ON_TEAM),
        ("priority form", driver.view_submission(
            View.PRIORITY, user=CLERK, user_team=SUPPORT, private_metadata=one,
            values={Block.PRIORITY: {Input.VALUE: static_select_value("P4")},
                    Block.REASON: {Input.VALUE: "not urgent really"}}), NOT_ON_TEAM),
        ("resolve form", driver.view_submission(
            View.RESOLVE, user=CLERK, user_team=SUPPORT, private_metadata=one,
            values={Block.RESOLUTION: {Input.VALUE: "closing this"}}), NOT_ON_TEAM),
        ("reopen", driver.block_action(Action.REOPEN, user=CLERK, user_team=SUPPORT, value=two,
                                       channel=TRIAGE, message_ts=resolved_card_ts), NOT_ON_TEAM),
        ("message shortcut", driver.message_shortcut(Shortcut.FROM_MESSAGE, user=CLERK, user_team=SUPPORT,
                                                     channel=CHERWELL_CHANNEL, message=engineer_note["event"]),
         NOT_ON_TEAM),
    ]
    for what, payload, phrase in attempts:
        mark = len(served.slack.calls)
        served.interact(payload)
        assert phrase in served.told(CLERK, phrase, after=mark), what

    events = [
        ("public reply", served.driver.message("Fixed it, all good now", user=CLERK, user_team=SUPPORT,
                                               channel=CHERWELL_CHANNEL, thread_ts=thread_ts)),
        ("internal note", served.driver.message("Council is overreacting", user=CLERK, user_team=SUPPORT,
                                                channel=TRIAGE, thread_ts=card_ts)),
        (":ticket:", served.driver.reaction_added("ticket", user=CLERK, user_team=SUPPORT,
                                                  channel=CHERWELL_CHANNEL, item_ts=engineer_note["event"]["ts"],
                                                  item_user=ENGINEER)),
    ]
    for _what, body in events:
        mark = len(served.slack.calls)
        served.event(body)
        served.told(CLERK, NOT_ON_TEAM, after=mark)

    for text, phrase in [("list", NOT_ON_TEAM), ("status CHW-1", NOT_ON_TEAM), ("", NOT_ON_TEAM),
                         ("report last-month", "for the support service's managers")]:
        mark = len(served.slack.calls)
        served.command(text, user=CLERK, team=SUPPORT, channel=CHERWELL_CHANNEL if not text else TRIAGE)
        served.told(CLERK, phrase, after=mark)

    served.event(served.driver.app_home_opened(user=CLERK, user_team=SUPPORT))
    home = eventually(lambda: next((c for c in served.slack.calls[start:] if c.method == "views.publish"
                                    and c.args["user_id"] == CLERK), None), "the clerk's App Home", timeout=20)
    assert "not on the support team" in json.dumps(home.args["view"])
    assert "CHW-" not in json.dumps(home.args["view"])

    # nothing changed: no event on any chain, the tickets as they were, no modal, no card update, no ticket
    after = {"chains": served.chains(), "CHW-1": served.show("CHW-1"), "CHW-2": served.show("CHW-2"),
             "tickets": len(served.tickets())}
    for ref in ("CHW-1", "CHW-2"):
        before[ref].pop("sla"), after[ref].pop("sla")
    assert after == before
    later = served.slack.calls[start:]
    assert [c.method for c in later if c.method in ("views.open", "chat.update", "files.completeUploadExternal")] == []
    leaked = [c for c in later if "CHW-1" in json.dumps(c.args) or "Banbury" in json.dumps(c.args)]
    assert leaked == [], [(c.method, c.args) for c in leaked]

    # and the same click by a registry engineer does change the ticket (the refusals were about who asked)
    claim(served, ENGINEER, "CHW-1", card_ts)
    eventually(lambda: served.show("CHW-1")["assignee"] == ENGINEER, "the engineer's claim", timeout=20)


def test_an_engineer_through_a_user_group_acts_and_is_refused_while_slack_cannot_list_the_group(
        served: Served) -> None:
    # Slack cannot list the group for the next two asks: the card's Assign menu (which leaves the group out,
    # offering nobody it cannot vouch for) and the group member's first click (refused, not guessed)
    served.slack.inject("usergroups.users.list", error="internal_error", times=2)
    thread_ts, card_ts = served.open_ticket("Refunds are stuck in pending", ref="CHW-1")
    menu = assign_menu(served.card("CHW-1").args["blocks"])
    assert ENGINEER in menu and GROUP_ENGINEER not in menu
    before = served.chains()

    mark = len(served.slack.calls)
    claim(served, GROUP_ENGINEER, "CHW-1", card_ts)
    assert "could not say" in served.told(GROUP_ENGINEER, "could not say", after=mark)
    assert served.show("CHW-1")["assignee"] is None and served.chains() == before
    assert served.slack.pending_faults == []
    served.slack.inject("usergroups.users.list", error="internal_error")
    served.event(served.driver.app_home_opened(user=GROUP_ENGINEER, user_team=SUPPORT))
    home = served.slack.wait_for("views.publish", timeout=20)[-1]
    assert "couldn't confirm your role" in json.dumps(home.args["view"]) and "CHW-1" not in json.dumps(home.args)

    # Slack answers again: the group member is an engineer, and the refreshed card offers them
    claim(served, GROUP_ENGINEER, "CHW-1", card_ts)
    eventually(lambda: served.show("CHW-1")["assignee"] == GROUP_ENGINEER, "the group engineer's claim", timeout=20)
    update = served.slack.wait_for("chat.update", timeout=20)[-1]
    assert GROUP_ENGINEER in assign_menu(update.args["blocks"])

    # the answer is remembered for minutes: a second action asks Slack nothing more
    count = len(served.slack.calls_to("usergroups.users.list"))
    reply = served.driver.message("Looking at the refund queue now", user=GROUP_ENGINEER, user_team=SUPPORT,
                                  channel=CHERWELL_CHANNEL, thread_ts=thread_ts)
    served.event(reply)
    eventually(lambda: "replied" in [e["type"] for e in served.show("CHW-1")["events"]], "the public reply",
               timeout=20)
    assert len(served.slack.calls_to("usergroups.users.list")) == count
    assert served.show("CHW-1")["sla"]["respond"]["met_at"] is not None


def test_a_council_member_is_not_support_however_they_ask(served: Served) -> None:
    _, card_ts = served.open_ticket("Cannot post cash to suspense", ref="CHW-1")
    before = served.chains()
    mark = len(served.slack.calls)
    claim_by_alice = served.driver.block_action(Action.CLAIM, user=ALICE, user_team=CHERWELL,
                                                value=TicketRef(ref="CHW-1").dump(), channel=TRIAGE,
                                                message_ts=card_ts)
    served.interact(claim_by_alice)
    served.told(ALICE, "only the support team", after=mark)
    assert served.chains() == before and served.show("CHW-1")["assignee"] is None
