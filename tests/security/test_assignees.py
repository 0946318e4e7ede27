"""Issue 12, finding 6: a ticket is assigned only to a member of the support team.

Before, the card's Assign was Slack's user picker (anyone in the workspace) and the handler took whoever a
payload named, so a forged click could assign a ticket to a stranger, whom the escalations then sent the
ticket's title, council and a link. Now the menu offers the support team only, and a payload naming anyone
else is refused with a clear message and changes nothing.
"""

from __future__ import annotations

from desk.sandbox.interactions import option
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.processes import eventually
from tests.security.conftest import (
    ALICE,
    CLERK,
    DUTY_LEAD,
    ENGINEER,
    ENGINEER2,
    GROUP_ENGINEER,
    MALLORY,
    MANAGER,
    SUPPORT,
    TRIAGE,
    Served,
)
from tests.security.test_support_roles import assign_menu


def assign(served: Served, card_ts: str, chosen: dict) -> None:
    payload = served.driver.block_action(Action.ASSIGN, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                                         message_ts=card_ts, block_id=TicketRef(ref="CHW-1").dump())
    payload["actions"][0].update(chosen)
    served.interact(payload)


def test_the_menu_offers_the_team_and_a_forged_assignee_is_refused(served: Served) -> None:
    _, card_ts = served.open_ticket("Payments page shows a blank screen", ref="CHW-1")
    offered = assign_menu(served.card("CHW-1").args["blocks"])
    assert sorted(offered) == sorted([ENGINEER, ENGINEER2, GROUP_ENGINEER, DUTY_LEAD, MANAGER])
    card_element = next(e for b in served.card("CHW-1").args["blocks"] if b["type"] == "actions"
                        for e in b["elements"] if e["action_id"] == Action.ASSIGN)
    assert card_element["type"] == "static_select"
    before = served.chains()

    forged = [
        ("a stranger", {"type": "static_select", "selected_option": option(MALLORY)}),
        ("a council member", {"type": "static_select", "selected_option": option(ALICE)}),
        ("a support-workspace clerk", {"type": "static_select", "selected_option": option(CLERK)}),
        ("the old user picker's shape", {"type": "users_select", "selected_user": MALLORY}),
        ("not a user id", {"type": "static_select", "selected_option": option("<!channel>")}),
    ]
    for what, chosen in forged:
        mark = len(served.slack.calls)
        assign(served, card_ts, chosen)
        told = served.told(ENGINEER, "assign", after=mark)
        assert "Nothing was changed" in told or "not a person" in told, what
    assert served.show("CHW-1")["assignee"] is None and served.chains() == before

    assign(served, card_ts, {"type": "static_select", "selected_option": option(GROUP_ENGINEER)})
    eventually(lambda: served.show("CHW-1")["assignee"] == GROUP_ENGINEER, "assigned to the group engineer",
               timeout=20)
    assert [e["type"] for e in served.show("CHW-1")["events"]] == ["opened", "assigned"]
