"""The thread confirmation names the next working time only when the ticket's clocks wait for it.

Each case is a signed message event to the running app at a chosen instant, read back from the
confirmation desk posted in the council's thread: one per division's calendar, a bank holiday that only
one division keeps, a playbook closure, and a 24x7 priority (whose clocks never wait for office hours).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.slack.conftest import BRUCE, CHERWELL, CHERWELL_CHANNEL, FIFE, FIFE_CHANNEL, Desk

BELFAST, BELFAST_CHANNEL, CARA = "T0BELFAST1", "C0BELFAST1", "U0CARA0001"
CLOSED = "We're closed now"


def confirmation(desk: Desk, text: str, *, user: str, team: str, channel: str, at: datetime) -> str:
    desk.slack.users[CARA] = {"id": CARA, "team_id": BELFAST, "name": "cara", "real_name": "Cara",
                              "tz": "Europe/London"}
    desk.clock.at = at
    body = desk.driver.message(text, user=user, user_team=team, channel=channel)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    threaded = [c for c in desk.slack.calls_to("chat.postMessage")
                if c.args.get("thread_ts") == body["event"]["ts"]]
    assert len(threaded) == 1, "one confirmation in the request's thread"
    return " ".join(str(block) for block in threaded[0].args["blocks"])


@pytest.mark.parametrize(("who", "at", "text", "opens"), [
    # England and Wales, a Saturday night: Monday morning
    (("U0ALICE001", CHERWELL, CHERWELL_CHANNEL), datetime(2026, 1, 10, 22, 0, tzinfo=UTC),
     "The direct debit file has not arrived", "Mon 12 Jan 09:00"),
    # Scotland's 2 January bank holiday (not a holiday in England): after the weekend
    ((BRUCE, FIFE, FIFE_CHANNEL), datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
     "The direct debit file has not arrived", "Mon 5 Jan 09:00"),
    # Northern Ireland's St Patrick's Day: the next morning
    ((CARA, BELFAST, BELFAST_CHANNEL), datetime(2026, 3, 17, 10, 0, tzinfo=UTC),
     "The direct debit file has not arrived", "Wed 18 Mar 09:00"),
    # The playbook's 24 December closure, then Christmas, Boxing Day (substitute Monday 28th)
    (("U0ALICE001", CHERWELL, CHERWELL_CHANNEL), datetime(2026, 12, 24, 10, 0, tzinfo=UTC),
     "The direct debit file has not arrived", "Tue 29 Dec 09:00"),
])
def test_outside_business_hours_the_council_is_told_when_work_starts(desk: Desk, who, at, text, opens) -> None:
    user, team, channel = who
    said = confirmation(desk, text, user=user, team=team, channel=channel, at=at)
    assert CLOSED in said and f"pick this up from {opens}" in said


def test_in_england_2_january_is_a_working_day(desk: Desk) -> None:
    said = confirmation(desk, "The direct debit file has not arrived", user="U0ALICE001", team=CHERWELL,
                        channel=CHERWELL_CHANNEL, at=datetime(2026, 1, 2, 10, 0, tzinfo=UTC))
    assert CLOSED not in said


def test_a_24x7_priority_on_a_saturday_night_is_not_told_we_are_closed(desk: Desk) -> None:
    said = confirmation(desk, "We cannot take card payments in any office", user=BRUCE, team=FIFE,
                        channel=FIFE_CHANNEL, at=datetime(2026, 1, 10, 22, 0, tzinfo=UTC))
    assert "P1" in said and "respond by Sat 10 Jan 22:30" in said
    assert CLOSED not in said and "Monday" not in said
