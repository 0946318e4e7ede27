"""Reading the actor's organisation from each payload kind, in the shapes Slack sends from Enterprise Grid
and across Slack Connect (the field placements of Bolt's `extract_actor_*` tests, with desk's own ids).

The envelope's two (workspace, organisation) pairs are believed only when their workspace is the author's:
in a shared channel one of them is the installation's side, whose organisation is not the author's.
"""

from __future__ import annotations

import pytest

from desk.slack.identity import Seen, seen_in_command, seen_in_event, seen_in_interaction

ACTOR_T, ACTOR_E, INSTALLED_T, INSTALLED_E = "T0ACTOR001", "E0ACTOR001", "T0INSTALL1", "E0INSTALL1"


def envelope(event: dict, **top: object) -> dict:
    return {"type": "event_callback", "api_app_id": "A0DESKAPP", "event": event, "is_ext_shared_channel": True,
            "authorizations": [{"enterprise_id": None, "team_id": INSTALLED_T, "user_id": "U0DESKBOT",
                                "is_bot": True, "is_enterprise_install": False}], **top}


MESSAGE = {"type": "message", "user": "W0ACTOR001", "text": "hi", "channel": "C0SHARED01", "ts": "1.000001"}


@pytest.mark.parametrize("body, seen", [
    # a Grid member in a Slack Connect channel: workspace in event.team, organisation only in the envelope
    (envelope({**MESSAGE, "team": ACTOR_T}, team_id=ACTOR_T, enterprise_id=ACTOR_E,
              context_team_id=INSTALLED_T, context_enterprise_id=INSTALLED_E),
     Seen(ACTOR_T, ACTOR_E, organisation_settled=True)),
    # the same with the pairs the other way round: the context pair is the author's
    (envelope({**MESSAGE, "team": ACTOR_T}, team_id=INSTALLED_T, enterprise_id=INSTALLED_E,
              context_team_id=ACTOR_T, context_enterprise_id=ACTOR_E),
     Seen(ACTOR_T, ACTOR_E, organisation_settled=True)),
    # app_mention-like: the organisation in user_team/source_team, event.team the installation's side
    (envelope({**MESSAGE, "team": INSTALLED_T, "user_team": ACTOR_E, "source_team": ACTOR_E,
               "user_profile": {"team": ACTOR_E}}, team_id=INSTALLED_T),
     Seen(None, ACTOR_E, organisation_settled=True)),
    # ... and when the envelope pairs that organisation with a workspace, that is the author's workspace
    (envelope({**MESSAGE, "team": ACTOR_E}, team_id=ACTOR_T, enterprise_id=ACTOR_E),
     Seen(ACTOR_T, ACTOR_E, organisation_settled=True)),
    # a non-Grid author on the installation's side of a channel shared with a Grid organisation
    (envelope({**MESSAGE, "team": INSTALLED_T}, team_id=INSTALLED_T, context_team_id=ACTOR_T,
              context_enterprise_id=ACTOR_E),
     Seen(INSTALLED_T, None, organisation_settled=True)),
    # the envelope is the installation's (on Grid), the author's workspace another: its organisation is open
    (envelope({**MESSAGE, "team": INSTALLED_T, "user_team": ACTOR_T}, team_id=INSTALLED_T,
              enterprise_id=INSTALLED_E),
     Seen(ACTOR_T, None, organisation_settled=False)),
    # reaction_added names no team: the envelope (either side) says nothing about the reactor
    (envelope({"type": "reaction_added", "user": "W0ACTOR001", "reaction": "ticket",
               "item": {"type": "message", "channel": "C0SHARED01", "ts": "1.000001"}},
              team_id=INSTALLED_T, context_team_id=INSTALLED_T, context_enterprise_id=INSTALLED_E),
     Seen()),
    # garbage where a team should be is nobody, not the next field along
    (envelope({**MESSAGE, "user_team": {"id": ACTOR_T}, "team": INSTALLED_T}, team_id=INSTALLED_T), Seen()),
], ids=["grid-workspace-in-event", "grid-context-pair", "grid-organisation-in-user-team",
        "grid-organisation-paired", "installed-side-beside-grid", "installation-on-grid", "reaction",
        "garbage"])
def test_events(body: dict, seen: Seen) -> None:
    assert seen_in_event(body) == seen


def interaction(team: dict | None, enterprise: dict | None, user_team: str = ACTOR_T) -> dict:
    return {"type": "block_actions", "user": {"id": "W0ACTOR001", "team_id": user_team}, "team": team,
            "enterprise": enterprise, "is_enterprise_install": False, "actions": [{}]}


@pytest.mark.parametrize("body, seen", [
    (interaction({"id": ACTOR_T, "domain": "x", "enterprise_id": ACTOR_E, "enterprise_name": "Org"},
                 {"id": ACTOR_E, "name": "Org"}), Seen(ACTOR_T, ACTOR_E, organisation_settled=True)),
    (interaction({"id": ACTOR_T, "domain": "x"}, None), Seen(ACTOR_T, None, organisation_settled=True)),
    (interaction({"id": INSTALLED_T, "domain": "x", "enterprise_id": INSTALLED_E}, {"id": INSTALLED_E}),
     Seen(ACTOR_T)),  # team is another side: its organisation is not the actor's
    (interaction(None, None), Seen(ACTOR_T)),  # an org-wide installation may send no team
    (interaction({"id": ACTOR_T, "enterprise_id": ACTOR_E}, None, user_team=ACTOR_E),
     Seen(ACTOR_T, ACTOR_E, organisation_settled=True)),
], ids=["grid", "single-workspace", "other-side-team", "no-team", "organisation-as-user-team"])
def test_interactivity(body: dict, seen: Seen) -> None:
    assert seen_in_interaction(body) == seen


def test_a_slash_commands_team_fields_are_not_the_actors() -> None:
    command = {"team_id": INSTALLED_T, "enterprise_id": INSTALLED_E, "user_id": "W0ACTOR001", "command": "/desk"}
    assert seen_in_command(command) == Seen()
    assert seen_in_command({**command, "user_team_id": ACTOR_T}) == Seen(ACTOR_T)
