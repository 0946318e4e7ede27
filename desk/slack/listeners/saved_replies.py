"""Saved replies from the triage card: "Reply with…" opens the reply filled in; sending posts it.

Support only (`Power.REPLY_TO_COUNCIL`), checked when the menu is used and again when the form is sent.
The submission is acted on once: its view id is recorded in the transaction that records the reply (a
resubmitted form, or Slack's retry, changes nothing more). The reply reaches the council's thread through
the outbox, sent at once (`tell_council_now`) and retried by the worker if Slack does not take it. The
work is `kept` (desk/slack/receipt.py): stored before the ack, worked again if the process dies.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.domain.roles import Power, require
from desk.domain.saved_replies import Placeholder
from desk.errors import InvalidInput
from desk.services import intake, saved_replies
from desk.services.read_models import summarize
from desk.slack import posting
from desk.slack.blocks import saved_replies as blocks
from desk.slack.blocks.text import is_user_id
from desk.slack.context import actor_for, display_name, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import Action, Block, View
from desk.slack.listeners.views import form_check, value, when_accepted
from desk.slack.metadata import SavedReplyContext
from desk.slack.notifier import tell_council_now
from desk.slack.receipt import kept


def _ack(ack: Ack) -> None:
    ack()


def _missing(view: dict) -> dict[str, str]:
    return {str(Block.REPLY): "Write the reply, or press Cancel"} if value(view, Block.REPLY) is None else {}


def register(app: App, deps: Deps) -> None:
    def support(client: WebClient, body: dict, channel: str | None):
        user = (body.get("user") or {}).get("id", "")
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user, team=team)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user, team=team, channel=channel, roles=roles)
        require(actor, Power.REPLY_TO_COUNCIL)
        return actor

    @guarded
    def on_reply_with(body: dict, client: WebClient, **_: Any) -> None:
        container = body.get("container") or {}
        actor = support(client, body, container.get("channel_id"))
        chosen = ((body["actions"][0].get("selected_option") or {}).get("value") or "")
        now = deps.clock.now()
        with unit_of_work(deps.engine) as session:
            ticket = intake.find_ticket_for_card(session, container.get("channel_id"), container.get("message_ts"))
            if ticket is None:
                raise InvalidInput("this card no longer matches a ticket")
            reply, version = saved_replies.get_current(session, chosen)
            facts = saved_replies.ticket_facts(session, ticket.ref, now)
            t = summarize(session, ticket, now)
        if not facts.is_open:
            raise InvalidInput(f"{t.ref} is {t.status}: a saved reply goes to an open ticket")
        if not (t.thread_channel and t.thread_ts):
            raise InvalidInput(f"{t.ref} has no council thread to reply in (it was opened by hand without one)")
        requester = facts.requester or "there"  # a name typed at `desk tickets open --requester` stays as typed
        if is_user_id(requester):
            requester = display_name(client, requester, deps.names)
        values = {**facts.values, Placeholder.REQUESTER: requester,
                  Placeholder.ENGINEER: display_name(client, actor.user, deps.names)}
        from desk.rendering.saved_replies import fill  # Jinja2's sandbox: imported by the first reply filled

        filled = fill(reply, values)
        context = SavedReplyContext(ref=t.ref, reply_id=reply.id, version=version)
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reply_modal(t, context, reply.title, filled.text))
        # Slack keeps the choice shown in the menu, and choosing the same reply again would send nothing:
        # the card is redrawn so the menu is fresh whether this form is sent or cancelled
        posting.refresh_card(client, deps, t.ref)

    @guarded
    @kept(deps.receipts, View.SAVED_REPLY)
    @when_accepted(_missing)
    def on_send(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        context = SavedReplyContext.load(view.get("private_metadata"))
        user = body["user"]
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user["id"], team=team)
        now = deps.clock.now()

        def record() -> bool:
            """One transaction: the view's id and the reply (the modal has closed: it must not be lost)."""
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"view:{view.get('id')}", "view", now):
                    return False
                actor = actor_for(session, user=user["id"], team=team, channel=None, roles=roles)
                saved_replies.send(session, actor=actor, ref=context.ref, text=value(view, Block.REPLY) or "",
                                   reply_id=context.reply_id, version=context.version, at=now)
                return True

        if patiently(record, what=f"recording saved reply {view.get('id')}"):
            posting.refresh_card(client, deps, context.ref)
            tell_council_now(client, deps, context.ref)

    app.action(Action.REPLY_WITH)(ack=_ack, lazy=[on_reply_with])
    app.view(View.SAVED_REPLY)(ack=form_check(_missing), lazy=[on_send])
