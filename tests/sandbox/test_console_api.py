"""The sandbox driven through `/sandbox/api/` alone, against the real desk it starts (in-process, real
HTTP): a Cherwell member's request from first message to rating, and a week later the digest with its
chart in Cherwell's channel. Every step reaches desk signed through POST /slack/events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desk.cli import sandbox_run
from tests.sandbox.console_client import PAPERCUT, ApiFailed, SandboxApi, action_ids

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[sandbox_run.Sandbox]:
    running = sandbox_run.start(database_url=f"sqlite:///{tmp_path / 'sandbox.db'}", port=0,
                                playbooks_dir=PLAYBOOKS)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(sandbox: sandbox_run.Sandbox) -> SandboxApi:
    return SandboxApi(sandbox.url)


def test_the_workspace_comes_from_the_registry(api: SandboxApi) -> None:
    state = api.state()
    roles = {p["role"] for p in state["people"]}
    assert roles == {"council", "engineer", "duty_lead", "service_manager", "stranger"}
    councils = {p["council"] for p in state["people"] if p["role"] == "council"}
    assert councils == {"cherwell", "west-northamptonshire", "monmouthshire", "fife", "belfast"}
    triage = [c for c in state["channels"] if c["council"] is None]
    assert len(triage) == 1 and "triage" in triage[0]["name"] and triage[0]["id"] == "C0IMS2TRGE"
    assert {"C0CHW7SUPP", "C0FIF1INCM", "C0FIF4DDBT"} <= {c["id"] for c in state["channels"]}
    belfast = [p for p in state["people"] if p["council"] == "belfast"]
    assert all(p["team"].startswith("T") and p["enterprise_id"] == "E0BCC6H2N5" for p in belfast)


def test_slack_answers_who_is_who_truthfully(sandbox: sandbox_run.Sandbox) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-sandbox-check", base_url=sandbox.stand_in.api_url)
    engineers = client.usergroups_users_list(usergroup="S0IMS3ENGS")["users"]
    assert engineers and all(sandbox.population.person(u).role == "engineer" for u in engineers)
    belfast = next(p for p in sandbox.population.people if p.council == "belfast")
    user = client.users_info(user=belfast.id)["user"]
    assert user["enterprise_user"]["enterprise_id"] == "E0BCC6H2N5"
    assert client.team_info(team=user["team_id"])["team"]["enterprise_id"] == "E0BCC6H2N5"
    duty = client.users_info(user="U0IMS4DUTY")["user"]
    assert duty["team_id"] == "T0IMS1DESK"


def test_a_request_from_first_message_to_rating_and_the_weekly_digest(api: SandboxApi) -> None:
    member = api.someone("council", "cherwell")
    engineer = api.someone("engineer")
    channel, triage = api.channel_of("cherwell")["id"], api.channel_of(None)["id"]

    asked = api.post("say", **{"as": member["id"], "channel": channel, "text": PAPERCUT})
    thread = asked["ts"]
    confirmation = api.wait_for(channel, lambda m: m["thread_ts"] == thread and m["bot"])
    assert "CHW-1" in confirmation["text"]
    card = api.wait_for(triage, lambda m: "CHW-1" in m["text"])
    assert {"desk.claim", "desk.resolve"} <= set(action_ids(card))

    api.post("click", **{"as": engineer["id"], "channel": triage, "ts": card["ts"], "action_id": "desk.claim"})
    claimed = api.wait_for(triage, lambda m: m["ts"] == card["ts"] and m["edited"])
    assert engineer["id"] in str(claimed["blocks"]) or engineer["name"].split()[0] in str(claimed["blocks"])

    api.post("say", **{"as": engineer["id"], "channel": channel, "text": "Looking at the card terminal logs now",
                       "thread_ts": thread})
    seen = api.messages(channel, viewer=member["id"])
    assert any(m["user"] == engineer["id"] and m["thread_ts"] == thread for m in seen)

    opened = api.post("click", **{"as": engineer["id"], "channel": triage, "ts": card["ts"],
                                  "action_id": "desk.resolve"})
    modal = opened["view"]
    assert modal["type"] == "modal"
    refused = api.post("submit", **{"as": engineer["id"], "view_id": modal["id"],
                                    "values": {"resolution": {"value": "   "}}})
    assert refused == {"errors": {"resolution": "Required"}}, "desk's own validation, shown on the form"
    assert api.post("submit", **{"as": engineer["id"], "view_id": modal["id"],
                                 "values": {"resolution": {"value": "Replaced the PIN pad"}}}) == {}
    resolution = api.wait_for(channel, lambda m: "Replaced the PIN pad" in str(m["blocks"]) + m["text"])
    rate = next(a for a in action_ids(resolution) if a.endswith(".5"))
    api.post("click", **{"as": member["id"], "channel": channel, "ts": resolution["ts"], "action_id": rate})

    before = len([m for m in api.messages(channel) if m["files"]])
    was = api.state()["now"]
    now = api.post("clock", advance="1w")["now"]
    assert now >= was and (datetime.fromisoformat(now) - datetime.fromisoformat(was)).days == 7
    charts = [m for m in api.messages(channel) if m["files"]]
    assert len(charts) > before, "a week on, Cherwell's digest brings its chart"
    assert charts[-1]["files"][0]["url"].startswith("/sandbox/files/")
    assert api.state()["violations"] == []


def test_errors_name_what_is_wrong(api: SandboxApi) -> None:
    member = api.someone("council", "cherwell")
    fife = api.channel_of("fife")["id"]
    cases = [
        ({"as": "U0NOBODY", "channel": fife, "text": "hi"}, "no person"),
        ({"as": member["id"], "channel": fife, "text": "hi"}, "is not in"),
        ({"as": member["id"], "channel": "C0NOWHERE", "text": "hi"}, "no channel"),
        ({"as": member["id"], "channel": api.channel_of("cherwell")["id"], "text": " "}, "empty"),
    ]
    for body, problem in cases:
        with pytest.raises(ApiFailed) as failed:
            api.post("say", **body)
        assert failed.value.status == 400 and problem in failed.value.body["error"]
    with pytest.raises(ApiFailed) as failed:
        api.post("clock", advance="soon")
    assert failed.value.status == 400 and "15m" in failed.value.body["error"]
    with pytest.raises(ApiFailed) as failed:
        api.request("POST", "nothing", {})
    assert failed.value.status == 404
    with pytest.raises(ApiFailed) as failed:
        api.get("messages")
    assert failed.value.status == 400 and "channel" in failed.value.body["error"]


def test_the_demo_makes_weeks_of_history_through_desk_itself(sandbox: sandbox_run.Sandbox, api: SandboxApi) -> None:
    from desk.db import queries
    from desk.db.engine import unit_of_work
    from desk.sandbox import demo

    started = api.state()["now"]
    summary = demo.build(sandbox.console)
    assert "tickets" in summary
    with unit_of_work(sandbox.wiring.engine) as session:
        tickets = queries.list_tickets(session)
        kinds = {e.type for t in tickets for e in queries.list_ticket_events(session, t.id)}
        opened = sorted(t.opened_at for t in tickets)
    statuses = {t.status for t in tickets}
    # weeks of history: early resolutions have closed by now (close_after_days), later ones are resolved
    assert len(tickets) >= 10 and {"in_progress", "new"} <= statuses and {"resolved", "closed"} & statuses
    assert {"opened", "assigned", "replied", "resolved", "rated", "reopened"} <= kinds
    assert (datetime.fromisoformat(started) - opened[0].replace(tzinfo=opened[0].tzinfo or UTC)).days >= 14
    assert abs((datetime.fromisoformat(api.state()["now"]) - datetime.fromisoformat(started)).total_seconds()) < 120
    digests = [m for m in api.messages(api.channel_of("cherwell")["id"]) if "Weekly digest" in m["text"]]
    assert len(digests) >= 2, "each week of the history brought Cherwell its digest"
    assert sandbox.stand_in.violations == []


def test_a_call_slack_would_refuse_is_shown(sandbox: sandbox_run.Sandbox, api: SandboxApi) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token="xoxb-sandbox-check", base_url=sandbox.stand_in.api_url)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0CHW7SUPP", text="x", blocks=[{"type": "section"}])
    assert any(v.startswith("chat.postMessage") for v in api.state()["violations"])
    assert api.get("violations") == api.state()["violations"]
    sandbox.stand_in.reset()  # the fixture's own check stays meaningful for the other tests


def test_a_port_in_use_is_named_with_what_to_do(tmp_path: Path, sandbox: sandbox_run.Sandbox) -> None:
    import os

    from tests.processes import desk_cli

    taken = sandbox.server.server_address[1]
    env = {**os.environ, "DESK_PLAYBOOKS_DIR": str(PLAYBOOKS)}
    refused = desk_cli(env, "sandbox", "--port", str(taken), "--database", f"sqlite:///{tmp_path / 'other.db'}")
    assert refused.returncode == 1
    assert f"cannot listen on 127.0.0.1:{taken}" in refused.stderr and "--port" in refused.stderr
