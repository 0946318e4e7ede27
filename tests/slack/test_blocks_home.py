"""App Home: queues capped under 100 blocks, the right button per ticket, council and unknown views."""

from __future__ import annotations

from datetime import timedelta

from desk.services.read_models import SlaView
from desk.slack.blocks import home
from desk.slack.ids import Action
from desk.slack.metadata import TicketRef
from tests.slack.blockkit import ENGINEER, NOW, flat, summary, view_problems

QUEUES = ("breaching", "unassigned", "mine", "waiting")


def accessories(view: dict) -> list[dict]:
    return [block["accessory"] for block in view["blocks"] if "accessory" in block]


def test_support_home_lists_each_queue_with_claim_or_resolve() -> None:
    mine = summary(ref="CHW-2", assignee=ENGINEER, status="in_progress")
    theirs = summary(ref="CHW-3", assignee="U0OTHER", status="in_progress")
    view = home.support(ENGINEER, {"breaching": [mine, theirs], "unassigned": [summary()], "mine": [mine],
                                   "waiting": []}, NOW)
    assert view["type"] == "home"
    said = flat(view)
    for heading in ("Breaching soon (2)", "Unassigned (1)", "Mine (1)", "Waiting on council (0)",
                    "Nothing here."):
        assert heading in said
    buttons = {(TicketRef.load(b["value"]).ref, b["action_id"]) for b in accessories(view)}
    assert buttons == {("CHW-2", Action.RESOLVE), ("CHW-3", Action.CLAIM), ("CHW-12", Action.CLAIM)}
    assert Action.NEW_REQUEST not in said
    assert view_problems(view) == []  # CHW-2 is in two queues: no repeated block ids


def test_support_home_caps_every_queue_and_stays_under_a_hundred_blocks() -> None:
    many = [summary(ref=f"CHW-{n}", title="&<" * 5_000, council_name="c" * 10_000) for n in range(500)]
    view = home.support(ENGINEER, dict.fromkeys(QUEUES, many), NOW)
    assert len(view["blocks"]) <= 100
    assert flat(view).count("and 485 more") == 4
    assert view_problems(view) == []


def test_support_home_with_missing_queues() -> None:
    view = home.support(ENGINEER, {}, NOW)
    assert flat(view).count("Nothing here.") == 4 and view_problems(view) == []


def test_support_home_row_says_what_is_due_next() -> None:
    breached = summary(respond=SlaView(NOW - timedelta(minutes=5), None, NOW - timedelta(minutes=5)))
    paused = summary(ref="CHW-13", status="waiting_on_council", respond=SlaView(NOW, NOW, None),
                     resolve=SlaView(None, None, None, paused=True))
    said = flat(home.support(ENGINEER, {"breaching": [breached], "waiting": [paused]}, NOW))
    assert "respond breached 5m ago" in said and "paused — waiting on council" in said


def test_council_home_shows_its_tickets_and_a_new_request_button() -> None:
    view = home.council("Cherwell District Council", [summary()], NOW)
    said = flat(view)
    assert "Cherwell District Council" in said and "CHW-12" in said
    assert "response: due Mon 5 Jan 11:00" in said
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [Action.NEW_REQUEST]
    assert "cannot-take-payments" not in said  # triage reasons are internal
    assert view_problems(view) == []


def test_council_home_caps_its_list() -> None:
    view = home.council("c" * 10_000, [summary(ref=f"CHW-{n}", title="t" * 10_000) for n in range(300)], NOW)
    assert len(view["blocks"]) <= 100 and "and 260 more" in flat(view)
    assert view_problems(view) == []


def test_council_home_when_nothing_is_open() -> None:
    view = home.council("Cherwell District Council", [], NOW)
    assert "No open requests" in flat(view) and view_problems(view) == []


def test_unknown_organisation_sees_no_data_and_no_buttons() -> None:
    view = home.unknown()
    assert view["type"] == "home" and view_problems(view) == []
    assert all(block["type"] in ("header", "section") and "accessory" not in block
               for block in view["blocks"])
    assert "isn't set up" in flat(view)


def test_support_workspace_people_not_on_the_team_and_unconfirmed_roles_see_no_data() -> None:
    for view, said in [(home.not_on_support_team(), "not on the support team"),
                       (home.role_unconfirmed(), "couldn't confirm your role")]:
        assert view["type"] == "home" and view_problems(view) == []
        assert all(block["type"] in ("header", "section") and "accessory" not in block
                   for block in view["blocks"])
        assert said in flat(view)


def test_support_home_says_who_is_duty_lead_when_there_is_a_rota() -> None:
    handover = NOW + timedelta(days=2)
    view = home.support(ENGINEER, {}, NOW, duty=home.DutyLine("U0LEAD0001", handover, "Europe/London"))
    said = flat(view)
    assert "Duty lead: <@U0LEAD0001> · next handover" in said and view_problems(view) == []
    assert "Duty lead" not in flat(home.support(ENGINEER, {}, NOW))  # no rota: no line
    nobody = flat(home.support(ENGINEER, {}, NOW, duty=home.DutyLine(None, handover, "Europe/London")))
    assert "Duty lead: nobody on the rota" in nobody
