"""`desk serve` in Socket Mode as operators run it (SLACK_APP_TOKEN set, no --http): a real process connected
to the Socket Mode stand-in, driven through `SocketModeDriver`, checked with `desk tickets show --json`.

One scenario: intake, a button, a modal submission, a slash command (`/desk report`, whose link opens on
$PORT), a redelivered envelope, and the connection cut three ways on the way (`refresh_requested`,
`link_disabled`, a dropped socket): nothing lost, nothing doubled; /healthz, /metrics and the council API
answer on $PORT all along; SIGTERM stops it with status 0. Then replicas: two processes on PostgreSQL share
Slack's envelopes; on SQLite a second one is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from desk.sandbox.slack_api import SlackStandIn
from desk.sandbox.socket_driver import SocketModeDriver
from desk.sandbox.socket_mode import LINK_DISABLED, REFRESH_REQUESTED, SocketModeStandIn
from desk.slack.ids import Action, Block, Input, View
from desk.slack.metadata import TicketRef
from tests.conftest import TEST_PLAYBOOKS
from tests.processes import DeskProcesses, desk_cli, desk_env, eventually, free_port
from tests.slack.conftest import (
    ALICE,
    APP_TOKEN,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    SUPPORT,
    TRIAGE,
    USERS,
)

MANAGER = "U0MANAGER"  # a service manager (tests/fixtures/playbooks/councils.yaml): may run /desk report


@dataclass
class Served:
    slack: SlackStandIn
    socket: SocketModeStandIn
    driver: SocketModeDriver
    processes: DeskProcesses
    env: dict[str, str]
    port: int
    database_url: str

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


def socket_mode_env(database_url: str, slack: SlackStandIn, port: int) -> dict[str, str]:
    env = desk_env(database_url, slack, playbooks=TEST_PLAYBOOKS, token="xoxb-socket-e2e",
                   SLACK_APP_TOKEN=APP_TOKEN, DESK_LINK_SECRET="socket-mode-link-secret-0123456789",
                   DESK_PUBLIC_URL=f"http://127.0.0.1:{port}")
    env.pop("SLACK_SIGNING_SECRET")  # Socket Mode needs none: its envelopes are not signed
    return env


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"}
                       for u, t in {**USERS, MANAGER: SUPPORT}.items()}
        socket = slack.enable_socket_mode()
        port = free_port()
        env = socket_mode_env(database_url, slack, port)
        processes = DeskProcesses(env, tmp_path)
        processes.start("web", "serve", "--host", "127.0.0.1", "--port", str(port))
        try:
            processes.wait_healthy("web", port)
            socket.wait_connections(1)
            yield Served(slack, socket, SocketModeDriver(socket, hooks_url=slack.hooks_url), processes, env, port,
                         database_url)
        finally:
            processes.stop()  # SIGTERM: each must exit 0
        assert slack.violations == [], slack.violations
        assert socket.violations == [], socket.violations


def test_the_whole_scenario_through_desk_serve_in_socket_mode(served: Served) -> None:
    driver, slack, socket = served.driver, served.slack, served.socket
    status, health = served.get("/healthz")
    assert (status, json.loads(health)["slack"]) == (200, "connected")  # the connection is part of health
    assert served.get("/slack/events")[0] == 404  # Slack's requests come over the WebSocket, not here

    # intake, and Slack delivering the same event again (it saw no ack in time): one ticket
    request = driver.message("We cannot take card payments on the website", user=ALICE, user_team=CHERWELL,
                             channel=CHERWELL_CHANNEL)
    first = driver.send_event(request)
    assert first.status == 200 and first.elapsed < 3
    assert driver.redeliver(first).status == 200
    thread_ts = request["event"]["ts"]

    def card_posted():
        return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == TRIAGE and c.ok
                and "desk.claim" in json.dumps(c.args.get("blocks"))]

    card = eventually(card_posted, "the triage card", timeout=15)[0]
    ref = TicketRef(ref="CHW-1").dump()

    # a Slack-initiated refresh, then a button
    before = socket.disconnect(REFRESH_REQUESTED)
    claim = driver.block_action(Action.CLAIM, user=ENGINEER, user_team=SUPPORT, value=ref, channel=TRIAGE,
                                message_ts=card.response["ts"])
    assert driver.send_interaction(claim).status == 200
    slack.wait_for("chat.update", count=1, timeout=10)
    after_refresh = socket.wait_new_connection(before)

    # the link disabled, then a reply in the council's thread
    socket.disconnect(LINK_DISABLED, connection=after_refresh)
    after_disabled = socket.wait_new_connection(after_refresh)
    reply = driver.message("On it: checking the GOV.UK Pay service status", user=ENGINEER, user_team=SUPPORT,
                           channel=CHERWELL_CHANNEL, thread_ts=thread_ts)
    assert driver.send_event(reply).status == 200

    # the socket dropped without a word, then a modal: resolve opens it, its submission resolves
    socket.drop(connection=after_disabled)
    socket.wait_new_connection(after_disabled, timeout=20)
    resolve = driver.block_action(Action.RESOLVE, user=ENGINEER, user_team=SUPPORT, value=ref, channel=TRIAGE,
                                  message_ts=card.response["ts"])
    assert driver.send_interaction(resolve).status == 200
    modal = slack.wait_for("views.open", count=1, timeout=10)[0].args["view"]
    submit = driver.view_submission(View.RESOLVE, user=ENGINEER, user_team=SUPPORT,
                                    private_metadata=modal["private_metadata"],
                                    values={Block.RESOLUTION: {Input.VALUE: "Merchant account re-enabled"}})
    submitted = driver.send_interaction(submit)
    assert submitted.status == 200 and submitted.elapsed < 3
    assert driver.redeliver(submitted).status == 200  # a double submit: no second resolution

    # a slash command: /desk report posts a signed link, and the link opens on $PORT
    command = driver.slash_command("report", user=MANAGER, user_team=SUPPORT, channel=TRIAGE)
    assert driver.send_form(command).status == 200

    def report_link() -> str | None:
        for call in slack.calls_to("chat.postMessage"):
            blocks = json.dumps(call.args.get("blocks") or [])
            if call.ok and "/reports/sla?t=" in blocks:
                start = blocks.index("<http") + 1
                return blocks[start:blocks.index("|", start)].replace("&amp;", "&")
        return None

    link = eventually(report_link, lambda: f"a report link among {slack.calls_to('chat.postMessage')}", timeout=15)
    assert link.startswith(f"http://127.0.0.1:{served.port}/reports/sla?t=")
    status, page = served.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert status == 200 and b"Cherwell" in page

    def events():
        shown = desk_cli(served.env, "tickets", "show", "CHW-1", "--json")
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        return document if document["status"] == "resolved" else None

    document = eventually(events, "CHW-1 resolved", timeout=15)
    assert [e["type"] for e in document["events"]] == ["opened", "assigned", "replied", "status", "resolved"]
    listed = desk_cli(served.env, "tickets", "list", "--json")
    assert listed.returncode == 0 and [t["ref"] for t in json.loads(listed.stdout)] == ["CHW-1"]

    # the council API and /metrics on $PORT, in Socket Mode
    created = desk_cli(served.env, "tokens", "create", "--council", "cherwell", "--json")
    assert created.returncode == 0, created.stderr
    status, body = served.get("/api/v1/tickets", json.loads(created.stdout)["token"])
    assert status == 200 and "CHW-1" in body.decode()
    assert served.get("/api/v1/tickets")[0] == 401
    status, exposition = served.get("/metrics")
    assert status == 200
    assert 'desk_socket_mode_envelopes_total{outcome="acked",type="event"}' in exposition.decode()
    assert 'desk_socket_mode_connections_total{outcome="opened"}' in exposition.decode()
    assert all(ack.after < 3 for ack in socket.acks)
    assert desk_cli(served.env, "audit", "verify").returncode == 0


def count_tickets(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM ticket")).scalar_one())
    finally:
        engine.dispose()


def test_replicas_postgresql_shares_the_envelopes_sqlite_refuses_a_second(database_url: str, tmp_path: Path) -> None:
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        socket = slack.enable_socket_mode()
        ports = [free_port(), free_port()]
        env = socket_mode_env(database_url, slack, ports[0])
        processes = DeskProcesses(env, tmp_path)
        try:
            processes.start("one", "serve", "--host", "127.0.0.1", "--port", str(ports[0]))
            processes.wait_healthy("one", ports[0])
            socket.wait_connections(1)
            if database_url.startswith("sqlite"):
                second = subprocess.run([sys.executable, "-m", "desk", "serve", "--host", "127.0.0.1", "--port",
                                         str(ports[1])], env=env, capture_output=True, text=True, timeout=60)
                assert second.returncode != 0
                assert "already running on this SQLite database" in second.stderr + second.stdout
                assert len(socket.links()) == 1
                return
            processes.start("two", "serve", "--host", "127.0.0.1", "--port", str(ports[1]))
            processes.wait_healthy("two", ports[1])
            connections = socket.wait_connections(2)
            driver = SocketModeDriver(socket, hooks_url=slack.hooks_url)
            sent = [driver.send_event(driver.message(f"Replica message {n}", user=ALICE, user_team=CHERWELL,
                                                     channel=CHERWELL_CHANNEL)) for n in range(10)]
            assert all(response.status == 200 for response in sent)
            assert {r.envelope.connection for r in sent} == set(connections)  # Slack spreads them
            assert {ack.connection for ack in socket.acks} == set(connections)  # and both answer
            again = [driver.redeliver(response) for response in sent[:4]]  # retries land on the other one
            assert all(response.status == 200 for response in again)
            eventually(lambda: count_tickets(database_url) == 10, "10 tickets", timeout=20)
            assert count_tickets(database_url) == 10
        finally:
            processes.stop()
        assert socket.violations == [] and slack.violations == []


def test_a_token_that_is_not_app_level_or_two_workers_are_refused_naming_why(database_url: str) -> None:
    with SlackStandIn() as slack:
        slack.enable_socket_mode()
        env = socket_mode_env(database_url, slack, free_port())
        bot_token = desk_cli({**env, "SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "serve", "--port", str(free_port()))
        assert bot_token.returncode != 0 and "SLACK_APP_TOKEN must be an app-level token" in bot_token.stderr
        two = desk_cli(env, "serve", "--workers", "2", "--port", str(free_port()))
        assert two.returncode != 0 and "one worker per process" in two.stderr
        no_secret = desk_cli(env, "serve", "--http", "--port", str(free_port()))
        assert no_secret.returncode != 0 and "SLACK_SIGNING_SECRET" in no_secret.stderr


def descriptions(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(text("SELECT description FROM ticket")).scalars())
    finally:
        engine.dispose()


def test_sigterm_mid_stream_finishes_what_it_acked_and_slack_redelivers_the_rest_once(
        database_url: str, tmp_path: Path) -> None:
    """A deploy: SIGTERM while envelopes are arriving. What was acked has its ticket by the time the process
    exits (status 0); what was not is delivered again by Slack to the next process; nothing is doubled."""
    with SlackStandIn() as slack:
        slack.users = {u: {"id": u, "team_id": t, "name": u.lower(), "tz": "Europe/London"} for u, t in USERS.items()}
        socket = slack.enable_socket_mode()
        port = free_port()
        processes = DeskProcesses(socket_mode_env(database_url, slack, port), tmp_path)
        processes.start("first", "serve", "--host", "127.0.0.1", "--port", str(port))
        processes.wait_healthy("first", port)
        first = socket.wait_connections(1)[-1]
        driver = SocketModeDriver(socket, hooks_url=slack.hooks_url)
        texts = [f"Deploy-time request {n}: the council tax page is down" for n in range(12)]
        sent = [socket.send_event(driver.message(t, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL),
                                  connection=first) for t in texts[:6]]
        for envelope in sent:
            socket.wait_ack(envelope)
        sent += [socket.send_event(driver.message(t, user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL),
                                   connection=first) for t in texts[6:]]
        processes.stop()  # SIGTERM while the second half arrives: must exit 0
        acked = [t for t, envelope in zip(texts, sent, strict=True) if socket.ack_of(envelope) is not None]
        assert len(acked) >= 6
        assert set(acked) <= set(descriptions(database_url))  # acked means done before the exit
        processes.start("second", "serve", "--host", "127.0.0.1", "--port", str(port))
        try:
            processes.wait_healthy("second", port)
            socket.wait_new_connection(first)
            for envelope in sent:
                if socket.ack_of(envelope) is None:
                    assert socket.wait_ack(socket.redeliver(envelope)).after < 3
            eventually(lambda: len(descriptions(database_url)) >= len(texts), "every request's ticket", timeout=20)
        finally:
            processes.stop()
        assert descriptions(database_url) == sorted(texts)
        assert socket.violations == [] and slack.violations == []
