"""Editing a resolved ticket's note from its triage card ("Edit resolution note").

A ticket resolved with :white_check_mark: carries a default note; the engineer makes it say what was
done here: the button opens the note in a form, and saving records a `resolution_edited` event (the old
words kept in it) and updates the resolution message in the council's thread. Support only; a second
submission of the same form changes nothing more.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.domain.lifecycle import Status
from desk.domain.roles import Power, require
from desk.errors import InvalidInput
from desk.services import council_notices, intake, tickets
from desk.services.read_models import summarize
from desk.slack import lifecycle_posts
from desk.slack.blocks import modals
from desk.slack.context import actor_for, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import Action, Block, View
from desk.slack.listeners.views import form_check, value, when_accepted
from desk.slack.metadata import TicketRef


def _ack(ack: Ack) -> None:
    ack()


def _missing(view: dict) -> dict[str, str]:
    return {str(Block.RESOLUTION): "Required"} if value(view, Block.RESOLUTION) is None else {}


def register(app: App, deps: Deps) -> None:
    def support(client: WebClient, body: dict):
        user = (body.get("user") or {}).get("id", "")
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user, team=team)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user, team=team, channel=None, roles=roles)
        require(actor, Power.WORK_TICKETS)
        return actor

    @guarded
    def on_edit(body: dict, client: WebClient, **_: Any) -> None:
        support(client, body)
        ref = TicketRef.load(body["actions"][0].get("value")).ref
        with unit_of_work(deps.engine) as session:
            ticket = intake.get_ticket(session, ref)
            t = summarize(session, ticket, deps.clock.now())
            assert ticket.id is not None
            note = council_notices.latest_note(session, ticket.id) or ""
        if t.status != Status.RESOLVED:
            raise InvalidInput(f"{ref} is {t.status}: only a resolved ticket's note can be edited")
        client.views_open(trigger_id=body["trigger_id"], view=modals.edit_resolution(t, note))

    @guarded
    @when_accepted(_missing)
    def on_save(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        ref = TicketRef.load(view.get("private_metadata")).ref
        actor = support(client, body)
        now = deps.clock.now()
        with unit_of_work(deps.engine) as session:
            if not intake.first_time(session, f"view:{view.get('id')}", "view", now):
                return
            tickets.edit_resolution_note(session, ref=ref, note=value(view, Block.RESOLUTION) or "",
                                         actor=actor.user, at=now)
        lifecycle_posts.note_edited(client, deps, ref)

    app.action(Action.EDIT_RESOLUTION)(ack=_ack, lazy=[on_edit])
    app.view(View.EDIT_RESOLUTION)(ack=form_check(_missing), lazy=[on_save])
