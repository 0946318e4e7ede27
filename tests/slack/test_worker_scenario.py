"""The Slack scenario continued by the worker: a P1 left unanswered escalates to the duty lead at the
respond target, its breach repeats on schedule, and each council's digest arrives on its day."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, MONDAY, Desk


def test_p1_unanswered_escalates_repeats_and_the_digest_arrives(either_desk: Desk) -> None:
    desk = either_desk
    worker = desk.wiring.worker(channel_pace=0)
    desk.clock.at = MONDAY + timedelta(days=7, hours=1)  # Monday 12 January, 10:00
    opened_at = desk.clock.at
    body = desk.driver.message("We cannot take card payments anywhere", user=ALICE, user_team=CHERWELL,
                               channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(body).status == 200
    desk.settle()
    desk.slack.reset()

    def dms(to: str) -> list:
        return [c for c in desk.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == to]

    desk.clock.at = opened_at + timedelta(minutes=30)  # the respond target (P1: 30m, 24x7)
    worker.run_once()
    duty = dms("U0DUTYLEAD")
    assert len(duty) == 1 and "CHW-1" in duty[0].args["text"] and "breached" in duty[0].args["text"]
    assert any(b.get("type") == "actions" for b in duty[0].args["blocks"])  # claim from the DM
    triage_reply = [c for c in desk.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert triage_reply == []  # the 75 % warning was at 22m30s and is superseded by the breach

    for hours in (4, 6, 8):  # resolve breaches at 4h, then repeats every 2h
        desk.clock.at = opened_at + timedelta(hours=hours)
        worker.run_once()
    manager = [c for c in dms("U0MANAGER") if c.args["text"].startswith("CHW-1")]  # not the managers digest
    assert len(manager) == 3
    assert "reminder 2" in json.dumps(manager[-1].args["blocks"])

    # The worker started after this week's digest time (Monday 09:00) and caught it up once, at 10:30.
    assert len(dms(CHERWELL_CHANNEL)) == 1
    desk.clock.at = MONDAY + timedelta(days=14)  # Monday 19 January 09:00: Cherwell's next digest
    worker.run_once()
    digests = dms(CHERWELL_CHANNEL)
    assert len(digests) == 2 and "CHW-1" in json.dumps(digests[-1].args["blocks"])
    uploads = desk.slack.calls_to("files.completeUploadExternal")
    assert len(uploads) >= 2 and all(u.ok for u in uploads)
    worker.run_once()
    assert len(dms(CHERWELL_CHANNEL)) == 2  # a week is sent once
