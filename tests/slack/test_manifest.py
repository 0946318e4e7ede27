"""Every event, command and shortcut the manifest declares has a listener: Slack never gets a 404 to retry."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, Desk

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "slack" / "manifest.yml").read_text())


def test_every_subscribed_event_type_is_handled(desk: Desk) -> None:
    driver = desk.driver
    samples = {
        "message.channels": driver.message("hello", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL),
        "message.groups": driver.message("hello", user=ALICE, user_team=CHERWELL, channel="G0PRIVATE01",
                                         channel_type="group"),
        "reaction_added": driver.reaction_added("eyes", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                                item_ts="1767600000.000100", item_user=ALICE),
        "app_home_opened": driver.app_home_opened(user=ALICE, user_team=CHERWELL),
    }
    subscribed = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(subscribed) == sorted(samples)
    for name in subscribed:
        assert driver.send_event(samples[name]).status == 200, name
    # message subtypes (edits, joins, bot posts) are message events too
    for subtype in ("message_changed", "channel_join", "bot_message"):
        body = driver.message("x", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL, subtype=subtype)
        assert driver.send_event(body).status == 200, subtype
    desk.settle()


def test_an_event_nobody_subscribed_to_would_be_a_404(desk: Desk) -> None:
    """The check above can fail: Bolt answers 404 to what no listener handles."""
    body = desk.driver.app_mention("hi", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert desk.driver.send_event(body).status == 404


def test_every_command_and_shortcut_is_handled(desk: Desk) -> None:
    driver = desk.driver
    for command in MANIFEST["features"]["slash_commands"]:
        body = driver.slash_command("help", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL,
                                    command=command["command"])
        assert driver.send_form(body).status == 200, command["command"]
    for shortcut in MANIFEST["features"]["shortcuts"]:
        if shortcut["type"] == "message":
            message = driver.message_event("x", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)
            payload = driver.message_shortcut(shortcut["callback_id"], user=ALICE, user_team=CHERWELL,
                                              channel=CHERWELL_CHANNEL, message=message)
        else:
            payload = driver.global_shortcut(shortcut["callback_id"], user=ALICE, user_team=CHERWELL)
        assert driver.send_interaction(payload).status == 200, shortcut["callback_id"]
    desk.settle()


def test_the_manifest_asks_for_the_scopes_the_app_uses() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "channels:history", "groups:history", "reactions:read", "reactions:write",
            "users:read", "team:read"} <= scopes
