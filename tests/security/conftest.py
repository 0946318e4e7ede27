"""desk as operators run it (`desk serve --http`, a separate process) against the Slack stand-in, with a
registry whose engineers include a user group, and the people who try what they should not.

Every request reaches desk signed, shaped as Slack sends it; what desk did is read back the way an auditor
would: `desk tickets show --json`, `desk audit verify --json`, and the Web API calls the stand-in recorded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desk.sandbox.call_log import Call
from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import desk_cli, desk_env, eventually, free_port, wait_healthy
from tests.slack.conftest import (
    ALICE,
    BRUCE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE,
    FIFE_CHANNEL,
    MALLORY,
    OUTSIDE,
    SECRET,
    SUPPORT,
    TRIAGE,
)

ALICE2 = "U0ALICE002"  # Cherwell, Alice's colleague
ENGINEER2 = "U0ENGINEER2"  # listed by id
GROUP_ENGINEER = "U0GRPENG01"  # an engineer only through the S0ENGINEERS user group
CLERK = "U0CLERK001"  # in the support team's workspace, named nowhere in the registry
MANAGER = "U0MANAGER"
DUTY_LEAD = "U0DUTYLEAD"
ENGINEERS_GROUP = "S0ENGINEERS"
SHARED_CHANNEL = "C0SHARED01"  # a channel shared between councils that the registry gives to nobody
PEOPLE = {ALICE: CHERWELL, ALICE2: CHERWELL, BRUCE: FIFE, ENGINEER: SUPPORT, ENGINEER2: SUPPORT,
          GROUP_ENGINEER: SUPPORT, CLERK: SUPPORT, MANAGER: SUPPORT, DUTY_LEAD: SUPPORT, MALLORY: OUTSIDE}
NAMES = {ENGINEER: "Jo Engineer", ENGINEER2: "Sam Engineer", GROUP_ENGINEER: "Kim Groupmember",
         MANAGER: "Pat Manager", DUTY_LEAD: "Lee Duty", CLERK: "Chris Clerk", ALICE: "Alice Cherwell",
         ALICE2: "Ann Cherwell", BRUCE: "Bruce Fife", MALLORY: "Mallory"}

__all__ = ["ALICE", "ALICE2", "BRUCE", "CHERWELL", "CHERWELL_CHANNEL", "CLERK", "DUTY_LEAD", "ENGINEER",
           "ENGINEER2", "ENGINEERS_GROUP", "FIFE", "FIFE_CHANNEL", "GROUP_ENGINEER", "MALLORY", "MANAGER",
           "OUTSIDE", "SHARED_CHANNEL", "SUPPORT", "TRIAGE", "Served"]


def registry_with_group(target: Path) -> Path:
    """The test playbooks, with the engineers listed by id and through a user group."""
    shutil.copytree(TEST_PLAYBOOKS, target)
    councils = target / "councils.yaml"
    text = councils.read_text()
    assert "engineers: [U0ENGINEER1, U0ENGINEER2]" in text
    councils.write_text(text.replace("engineers: [U0ENGINEER1, U0ENGINEER2]",
                                     f"engineers: [U0ENGINEER1, U0ENGINEER2, {ENGINEERS_GROUP}]"))
    return target


@dataclass
class Served:
    driver: SlackDriver
    slack: SlackStandIn
    env: dict[str, str]

    # -- acting ------------------------------------------------------------------------------------------

    def event(self, body: dict) -> dict:
        response = self.driver.send_event(body)
        assert response.status == 200, response.text
        return body

    def interact(self, payload: dict) -> dict:
        response = self.driver.send_interaction(payload)
        assert response.status == 200, response.text
        return payload

    def command(self, text: str, *, user: str, team: str, channel: str) -> dict:
        form = self.driver.slash_command(text, user=user, user_team=team, channel=channel)
        response = self.driver.send_form(form)
        assert response.status == 200, response.text
        return form

    def said(self, text: str, *, user: str, team: str, channel: str, thread_ts: str | None = None) -> dict:
        """A person's message, delivered as an event and kept by the stand-in as Slack keeps it."""
        body = self.driver.message(text, user=user, user_team=team, channel=channel, thread_ts=thread_ts)
        self.slack.add_message(body)
        return self.event(body)

    def open_ticket(self, text: str, *, ref: str, user: str = ALICE, team: str = CHERWELL,
                    channel: str = CHERWELL_CHANNEL) -> tuple[str, str]:
        """A council member's message opens `ref`: (its thread ts, its triage card ts)."""
        body = self.said(text, user=user, team=team, channel=channel)
        card = eventually(lambda: self.card(ref), f"the triage card of {ref}", timeout=20)
        return body["event"]["ts"], card.response["ts"]

    # -- reading back ------------------------------------------------------------------------------------

    def card(self, ref: str) -> Call | None:
        return next((c for c in self.slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] == TRIAGE
                     and str(c.args.get("text", "")).startswith(f"{ref} ·")), None)

    def show(self, ref: str) -> dict:
        shown = desk_cli(self.env, "tickets", "show", ref, "--json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    def tickets(self) -> list[dict]:
        listed = desk_cli(self.env, "tickets", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        return json.loads(listed.stdout)

    def chains(self) -> dict[str, int]:
        """Each council's audit chain, verified: council -> number of events."""
        verified = desk_cli(self.env, "audit", "verify", "--json")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        return {chain["council"]: chain["events"] for chain in json.loads(verified.stdout)}

    def told(self, user: str, phrase: str, *, after: int = 0, timeout: float = 20) -> str:
        """What desk told `user` (ephemeral, response_url or DM) containing `phrase`, among calls from `after`."""
        def find() -> str | None:
            for call in self.slack.calls[after:]:
                to_user = (call.method == "chat.postEphemeral" and call.args.get("user") == user) or (
                    call.method == "chat.postMessage" and call.args.get("channel") == user) or (
                    call.method == "response_url")
                text = json.dumps(call.args.get("blocks") or call.args.get("text") or "")
                if to_user and phrase in text:
                    return text
            return None

        return eventually(find, lambda: f"{user} told {phrase!r}; calls: "
                          f"{[(c.method, str(c.args)[:160]) for c in self.slack.calls[after:]]}", timeout=timeout)


def start(database_url: str, tmp_path: Path, playbooks: Path) -> Iterator[Served]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "real_name": NAMES[u], "tz": "Europe/London"}
                       for u, t in PEOPLE.items()}
        slack.usergroups = {ENGINEERS_GROUP: [GROUP_ENGINEER]}
        port = free_port()
        env = desk_env(database_url, slack, playbooks=playbooks, token="xoxb-security")
        log_path = tmp_path / "serve.log"
        with log_path.open("w") as log:
            process = subprocess.Popen([sys.executable, "-m", "desk", "serve", "--http", "--host", "127.0.0.1",
                                        "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, process, log_path)
            slack.reset()
            yield Served(SlackDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, hooks_url=slack.hooks_url),
                         slack, env)
        finally:
            process.terminate()
            process.wait(timeout=30)
        assert slack.violations == [], slack.violations


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    yield from start(database_url, tmp_path, registry_with_group(tmp_path / "playbooks"))
