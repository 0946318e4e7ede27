"""Emoji actions: an engineer's reaction on a ticket's triage card or on the council's message that
opened it works the ticket. :eyes: claims, :white_check_mark: resolves with a default note (editable
from the card afterwards: "Edit resolution note" on a resolved ticket's card), :rotating_light: raises it to
the playbook's top priority with the reason "raised by reaction".

Support only (`Power.WORK_TICKETS`): anyone else's reaction does nothing and says nothing (a council
member's reactions do nothing but :ticket:, desk's own reactions are ignored the same way). A reaction on
any other message, or one that would change nothing (a resolved ticket, a ticket already at the top), is
ignored. The event's id is recorded in the transaction that makes the change: a redelivery has no effect,
and the work is `kept` by the :ticket: listener's receipt (desk/slack/receipt.py) like any reaction.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.domain.roles import Power, may
from desk.domain.tenancy import Actor
from desk.errors import RoleUnknown
from desk.services import emoji_actions, intake
from desk.services.state_reactions import StateReaction
from desk.slack import posting
from desk.slack.context import actor_for, roles_for
from desk.slack.deps import Deps
from desk.slack.notifier import tell_council_now

log = logging.getLogger("desk.slack")

NAMES = frozenset(str(reaction) for reaction in StateReaction)


def on_state_reaction(deps: Deps, client: WebClient, body: dict, event: dict) -> None:
    """One of `NAMES` was added to a message: act on it when an engineer put it on a ticket's message."""
    item = event.get("item") or {}
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if item.get("type") != "message" or not (isinstance(channel, str) and isinstance(ts, str) and user):
        return
    reaction = StateReaction(event["reaction"])
    now = deps.clock.now()
    team = deps.identities.of_event(client, body)
    roles = patiently(lambda: roles_for(client, deps, user=user, team=team),
                      what=f"reading the support roster for {body.get('event_id')}")

    def record() -> str | None:
        """One transaction: the event's id and the change (None: nothing to change, or not support)."""
        with unit_of_work(deps.engine) as session:
            if not intake.first_time(session, f"event:{body.get('event_id') or channel + ts}", "event", now):
                return None
            actor = actor_for(session, user=user, team=team, channel=channel, roles=roles)
            if not _may_work(actor):
                return None
            return emoji_actions.act(session, reaction=reaction, actor=actor, channel=channel, ts=ts, at=now)

    ref = patiently(record, what=f"recording reaction {body.get('event_id')}")
    if ref is not None:
        log.info("%s: %s by reaction from %s", ref, reaction.name.lower(), user)
        posting.refresh_card(client, deps, ref)
        tell_council_now(client, deps, ref)


def _may_work(actor: Actor) -> bool:
    try:
        return may(actor, Power.WORK_TICKETS)
    except RoleUnknown as err:  # a reaction has nobody to answer: say why in the log, change nothing
        log.warning("reaction by %s ignored: %s", actor.user, err)
        return False
