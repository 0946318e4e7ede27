"""App Home's support queues are sorted by the next SLA due, breached first, before they are cut: the most
urgent ticket leads every queue however many there are, and "and N more" says how to see the rest
(`/desk list QUEUE [COUNCIL]`), which answers in the same order."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from desk.db.engine import unit_of_work
from desk.services import tickets
from tests.slack.conftest import ENGINEER, MONDAY, SUPPORT, TRIAGE, Desk


def open_many(desk: Desk) -> None:
    """CHW-1..16: P4 (8h to respond); CHW-17: P2 opened on Friday, its respond target long breached;
    CHW-18: P1 opened now (30m to respond); FIFE-1: P3."""
    with unit_of_work(desk.engine) as session:
        for number in range(16):
            tickets.open_ticket(session, council_id="cherwell", title=f"Report request {number + 1}",
                                actor="cli", at=MONDAY, priority="P4")
        tickets.open_ticket(session, council_id="cherwell", title="Refund stuck", actor="cli",
                            at=MONDAY - timedelta(days=3), priority="P2")
        tickets.open_ticket(session, council_id="cherwell", title="Cannot take payments", actor="cli",
                            at=MONDAY, priority="P1")
        tickets.open_ticket(session, council_id="fife", title="Mandates", actor="cli", at=MONDAY, priority="P3")


def refs(text: str) -> list[str]:
    return re.findall(r"\*((?:CHW|FIFE)-\d+)\*", text)


def test_every_support_queue_is_sorted_by_next_due_before_it_is_cut(desk: Desk) -> None:
    open_many(desk)
    desk.clock.advance(minutes=5)
    assert desk.driver.send_event(desk.driver.app_home_opened(user=ENGINEER, user_team=SUPPORT)).status == 200
    desk.settle()
    blocks = desk.slack.last("views.publish").args["view"]["blocks"]
    headers = [i for i, b in enumerate(blocks) if b["type"] == "header"]
    unassigned = blocks[headers[2]:headers[3]]  # "Support queue", "Breaching soon", "Unassigned", …
    assert unassigned[0]["text"]["text"] == "Unassigned (19)"
    shown = refs(json.dumps(unassigned))
    assert len(shown) == 15 and shown[:2] == ["CHW-17", "CHW-18"]  # breached, then the P1, then the rest
    assert shown[2] == "FIFE-1"  # P3: 4h to respond, before the P4s' 8h
    more = json.dumps(unassigned[-2])
    assert "and 4 more" in more and "/desk list unassigned" in more
    breaching = refs(json.dumps(blocks[headers[1]:headers[2]]))
    assert breaching[:3] == ["CHW-17", "CHW-18", "FIFE-1"]

    command = desk.driver.slash_command("list unassigned", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE)
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    listed = desk.slack.calls_to("response_url")[-1].args
    assert refs(json.dumps(listed))[:3] == ["CHW-17", "CHW-18", "FIFE-1"]
    assert "Unassigned* (19)" in json.dumps(listed)

    command = desk.driver.slash_command("list unassigned fife", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE)
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    assert refs(json.dumps(desk.slack.calls_to("response_url")[-1].args)) == ["FIFE-1"]

    command = desk.driver.slash_command("list everything", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE)
    assert desk.driver.send_form(command).status == 200
    desk.settle()
    assert "is not a queue" in json.dumps(desk.slack.calls_to("response_url")[-1].args)
