"""`desk serve --http` as operators run it (gunicorn, a separate process), driven end to end through the
stand-in, and checked with `desk tickets show --json`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_cli, desk_env, free_port, wait_healthy
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SECRET, SUPPORT, TRIAGE, USERS


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[SlackDriver, SlackStandIn, dict, subprocess.Popen]]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        port = free_port()
        env = desk_env(database_url, slack, playbooks=TEST_PLAYBOOKS, token="xoxb-e2e")
        log = (tmp_path / "serve.log").open("w")
        process = subprocess.Popen([sys.executable, "-m", "desk", "serve", "--http", "--host", "127.0.0.1",
                                    "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, process, tmp_path / "serve.log")
            yield (SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, hooks_url=slack.hooks_url),
                   slack, env, process)
        except BaseException:
            for child in subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                        text=True).stdout.split():
                os.kill(int(child), signal.SIGUSR1)  # thread stacks into serve.log, for the failure report
            time.sleep(0.5)
            raise
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            log.close()
        assert slack.violations == []


def workers_of(process: subprocess.Popen) -> set[int]:
    return {int(pid) for pid in subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                               text=True).stdout.split()}


def test_sighup_replaces_the_web_worker_and_desk_keeps_answering(served) -> None:
    """docs/operations.md: SIGHUP replaces the web workers gracefully, under desk's own gunicorn master."""
    driver, slack, _, process = served
    before = workers_of(process)
    assert before
    process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while not ((now := workers_of(process)) and not now & before):
        assert time.monotonic() < deadline, f"workers {before} still there: {now}"
        time.sleep(0.1)
    assert process.poll() is None  # the master itself carries on
    request = driver.message("Direct debit file rejected by the bank", user=ALICE, user_team=CHERWELL,
                             channel=CHERWELL_CHANNEL)
    assert driver.send_event(request).status == 200
    assert slack.wait_for("chat.postMessage", count=2, timeout=10)  # the thread reply and the triage card


def test_end_to_end_under_the_production_server(served) -> None:
    driver, slack, env, _ = served
    request = driver.message("We cannot take card payments on the website", user=ALICE, user_team=CHERWELL,
                             channel=CHERWELL_CHANNEL)
    assert driver.send_event(request).status == 200
    thread_ts = request["event"]["ts"]
    def card_posted():
        return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE and c.ok
                and "desk.claim" in json.dumps(c.args.get("blocks"))]

    deadline = time.monotonic() + 10
    while not card_posted():
        assert time.monotonic() < deadline, slack.calls
        time.sleep(0.05)
    card = card_posted()[0]
    ref = TicketRef(ref="CHW-1").dump()

    steps = [
        driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=ref, channel=TRIAGE,
                            message_ts=card.response["ts"]),
        driver.message("On it: checking the GOV.UK Pay service status", user=ENGINEER, user_team=SUPPORT,
                       channel=CHERWELL_CHANNEL, thread_ts=thread_ts),
        driver.block_action(Action.SET_STATUS, user=ENGINEER, user_team=SUPPORT, channel=TRIAGE,
                            message_ts=card.response["ts"],
                            selected_option={"value": "waiting_on_council",
                                             "text": {"type": "plain_text", "text": "Waiting on council"}}),
        driver.message("Here is the error reference: P0050", user=ALICE, user_team=CHERWELL,
                       channel=CHERWELL_CHANNEL, thread_ts=thread_ts),
    ]
    expected_updates = 0
    for step in steps:
        response = driver.send_event(step) if step.get("type") == "event_callback" else driver.send_interaction(step)
        assert response.status == 200 and response.elapsed < 3
        if step.get("type") == "block_actions" and step["actions"][0]["action_id"] == Action.SET_STATUS:
            # waiting on the council asks what is needed first; the card changes once that is submitted
            asked = slack.wait_for("views.open")[0].args["view"]
            needed = driver.view_submission(View.WAITING, user=ENGINEER, user_team=SUPPORT, view=asked,
                                            values={Block.NEEDED: {Input.VALUE: "The error reference"}})
            assert driver.send_interaction(needed).status == 200
        expected_updates += 1
        slack.wait_for("chat.update", count=expected_updates, timeout=10)

    assert driver.send_interaction(driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                                       value=ref, channel=TRIAGE,
                                                       message_ts=card.response["ts"])).status == 200
    modal = slack.wait_for("views.open", count=2)[1].args["view"]
    submit = driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                    private_metadata=modal["private_metadata"],
                                    values={Block.RESOLUTION: {Input.VALUE: "Merchant account re-enabled"}})
    assert driver.send_interaction(submit).status == 200
    deadline = time.monotonic() + 10
    while not (resolution := next((c for c in slack.calls_to("chat.postMessage")
                                   if c.args.get("thread_ts") == thread_ts and "desk.rate" in json.dumps(c.args)),
                                  None)):
        assert time.monotonic() < deadline, slack.calls
        time.sleep(0.05)
    button = next(e for b in resolution.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"].endswith(".4"))
    rate = driver.block_action(button["action_id"], user=ALICE, user_team=CHERWELL, value=button["value"],
                               channel=CHERWELL_CHANNEL, message_ts=resolution.response["ts"])
    assert driver.send_interaction(rate).status == 200
    slack.wait_for("response_url", timeout=10)

    shown = desk_cli(env, "tickets", "show", "CHW-1", "--json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert (document["status"], document["priority"], document["requester"]) == ("resolved", "P1", ALICE)
    assert [e["type"] for e in document["events"]] == [
        "opened", "assigned", "replied", "status", "status", "commented", "status", "resolved", "rated"]
    assert document["sla"]["respond"]["met_at"] is not None
    assert document["sla"]["resolve"][0]["paused_seconds"] >= 0
    assert desk_cli(env, "audit", "verify").returncode == 0
