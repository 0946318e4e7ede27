"""Events: messages (intake and thread replies), the :ticket: reaction, App Home.

Every event type the manifest subscribes to has a listener here, so Slack never gets a 404 to retry.
Each event is acted on once: its `event_id` is recorded in the same transaction as its effect. Slack is
told "got it" before that transaction runs, and will not send the event again: so the events whose work is
`kept` are stored before the ack (desk/slack/receipt.py) and worked again if the process dies; and when
the database is unreachable the transaction is tried again until it is back (`patiently`, up to a minute), instead of
dropping a council's message. (While desk knows the database is down, the web front answers events 503
before the ack, and Slack delivers them again later.)
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.domain.intake_rules import requester_for
from desk.domain.roles import Power, may
from desk.domain.tenancy import Actor, ActorKind
from desk.errors import RoleUnknown
from desk.services import intake, problems, queues, rota, tenancy
from desk.slack import lifecycle_posts, posting
from desk.slack.blocks import home
from desk.slack.context import actor_for, author_team, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import TICKET_REACTION
from desk.slack.listeners import reactions
from desk.slack.receipt import kept

log = logging.getLogger("desk.slack")

# Message subtypes that are a person saying something; edits, joins, bot posts and the like are not.
SPOKEN = (None, "thread_broadcast", "file_share")
EVENTS = ("message", "reaction_added", "app_home_opened")
# Message subtypes that change what a person said before (see `on_message_change`).
CHANGES = ("message_changed", "message_deleted")


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, deps: Deps) -> None:
    @guarded
    @kept(deps.receipts, "message")
    def on_message(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        if event.get("subtype") not in SPOKEN or event.get("bot_id") or not event.get("user"):
            return
        channel, ts, text = event.get("channel"), event.get("ts"), event.get("text") or ""
        thread_ts = event.get("thread_ts")
        if not channel or not ts:
            log.warning("message event without channel or ts (%s)", body.get("event_id"))
            return
        now = deps.clock.now()
        team = deps.identities.of_event(client, body)
        roles = patiently(lambda: roles_for(client, deps, user=event["user"], team=team),
                          what=f"reading the support roster for {body.get('event_id') or ts}")

        def record() -> tuple[intake.Opened | None, intake.ThreadOutcome | None]:
            """One transaction: the event's id and its effect (a new ticket, or what a thread reply did)."""
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"event:{body.get('event_id') or ts}", "event", now):
                    return None, None
                actor = actor_for(session, user=event["user"], team=team, channel=channel, roles=roles)
                if thread_ts and thread_ts != ts:
                    return None, intake.thread_message(session, actor=actor, channel=channel,
                                                       thread_ts=thread_ts, text=text, at=now)
                if actor.is_council and tenancy.is_council_channel(session, channel, actor.council_id):
                    opened = intake.open_request(session, actor=actor, text=text, at=now,
                                                 requester=event["user"], channel=channel, ts=ts)
                    return opened, None
                return None, None

        opened, outcome = patiently(record, what=f"recording message {body.get('event_id') or ts}")
        if opened is not None:
            posting.announce(client, deps, opened.ticket.ref, opens_at=opened.opens_at)
        elif outcome is not None:
            lifecycle_posts.after_thread_message(client, deps, outcome)

    @guarded
    @kept(deps.receipts, *(f"message:{subtype}" for subtype in CHANGES))
    def on_message_change(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        """An edit or a deletion. When the message opened a ticket, the ticket records it (its words
        follow an edit until an engineer has confirmed triage) and its card says so. Slack also sends
        `message_changed` for a thread's reply count or an unfurl: only a change of words is an edit."""
        subtype, channel = event.get("subtype"), event.get("channel")
        changed, before = event.get("message"), event.get("previous_message")
        changed, before = (changed if isinstance(changed, dict) else {}), (before if isinstance(before, dict) else {})
        ts = changed.get("ts") if subtype == "message_changed" else event.get("deleted_ts")
        if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
            log.warning("%s event without channel or ts (%s)", subtype, body.get("event_id"))
            return
        if subtype == "message_changed" and (changed.get("bot_id") or changed.get("text") == before.get("text")):
            return
        now = deps.clock.now()

        def record() -> str | None:
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"event:{body.get('event_id') or subtype + ts}", "event", now):
                    return None
                if subtype == "message_changed":
                    stamp = changed.get("edited") if isinstance(changed.get("edited"), dict) else {}
                    editor = stamp.get("user") or changed.get("user") or "slack"
                    text = changed.get("text") if isinstance(changed.get("text"), str) else ""
                    ticket = intake.message_edited(session, channel=channel, ts=ts, text=text, editor=str(editor),
                                                   at=now)
                else:
                    ticket = intake.message_deleted(session, channel=channel, ts=ts, at=now)
                return ticket.ref if ticket else None

        ref = patiently(record, what=f"recording {subtype} {body.get('event_id') or ts}")
        if ref is not None:
            posting.refresh_card(client, deps, ref)

    @guarded
    @kept(deps.receipts, "reaction_added")
    def on_reaction(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        item = event.get("item") or {}
        if event.get("reaction") in reactions.NAMES:  # emoji actions: the support team's, on a ticket
            reactions.on_state_reaction(deps, client, body, event)
            return
        if event.get("reaction") != TICKET_REACTION or item.get("type") != "message":
            return
        channel, ts, author = item.get("channel"), item.get("ts"), event.get("item_user")
        now = deps.clock.now()
        team = deps.identities.of_event(client, body)
        roles = patiently(lambda: roles_for(client, deps, user=event.get("user", ""), team=team),
                          what=f"reading the support roster for {body.get('event_id')}")
        # whose words: another council's member's message is never this council's ticket
        author_org = author_team(client, deps, author, event.get("user", ""), team)

        def first_look() -> tuple[Actor, str] | None:
            with unit_of_work(deps.engine) as session:
                actor = actor_for(session, user=event.get("user", ""), team=team, channel=channel, roles=roles)
                if actor.kind is ActorKind.UNKNOWN or (actor.from_support_team and actor.council_id is None):
                    return None  # not a partner, or support staff outside a council's channel: nothing to say
                requester = requester_for(actor, tenancy.directory(session), channel=channel, author=author,
                                          author_team=author_org)
                if intake.find_ticket_for_message(session, channel, ts) is not None:
                    return None  # one ticket per message
                return actor, requester

        looked = patiently(first_look, what=f"recording reaction {body.get('event_id')}")
        if looked is None:
            return
        actor, requester = looked
        message = _message(client, channel, ts)
        if message is None:
            return
        thread = message.get("thread_ts") or ts  # a reply's ticket lives in its parent's thread

        def record() -> intake.Opened | None:
            """One transaction: the event's id and the ticket (a crash before it leaves the event to rework)."""
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"event:{body.get('event_id')}", "event", now):
                    return None
                if intake.find_ticket_for_message(session, channel, thread) is not None:
                    return None  # a reply in a ticket's thread is part of that ticket already
                return intake.open_request(session, actor=actor, text=message.get("text", ""), at=now,
                                           requester=requester, channel=channel, ts=thread)

        opened = patiently(record, what=f"opening a ticket for reaction {body.get('event_id')}")
        if opened is not None:
            posting.announce(client, deps, opened.ticket.ref, opens_at=opened.opens_at)

    @guarded
    def on_home(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        now = deps.clock.now()
        team = deps.identities.of_event(client, body)
        roles = roles_for(client, deps, user=user, team=team)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user, team=team, channel=None, roles=roles)
            try:
                sees_queues, unconfirmed = may(actor, Power.SEE_QUEUES), False
            except RoleUnknown:  # Slack could not list a group: say so on the page, show no queues
                sees_queues, unconfirmed = False, True
            if sees_queues:
                duty = rota.on_duty(session, at=now)
                line = None if duty.duty is None or duty.timezone is None else home.DutyLine(
                    duty.duty_lead, duty.duty.next_handover_at, duty.timezone)
                view = home.support(user, queues.support_queues(session, user=user, now=now), now,
                                    problems.list_problems(session, open_only=True), line)
            elif unconfirmed:
                view = home.role_unconfirmed()
            elif actor.is_council and actor.council_id:
                name = intake.council_name(session, actor.council_id)
                view = home.council(name, queues.council_tickets(session, council_id=actor.council_id, now=now), now)
            elif actor.from_support_team:
                view = home.not_on_support_team()
            else:
                view = home.unknown()
        client.views_publish(user_id=user, view=view)

    # Bolt runs the first listener that matches: edits and deletions before every other message
    app.event({"type": "message", "subtype": CHANGES})(ack=_ack, lazy=[on_message_change])
    app.event("message")(ack=_ack, lazy=[on_message])
    app.event("reaction_added")(ack=_ack, lazy=[on_reaction])
    app.event("app_home_opened")(ack=_ack, lazy=[on_home])


def _message(client: WebClient, channel: str, ts: str) -> dict | None:
    """The message a :ticket: was put on (a top-level message or a thread reply, whose `thread_ts` names
    its parent); None when Slack has no such message for desk (deleted, or in a conversation desk cannot
    read)."""
    try:
        found = client.conversations_history(channel=channel, latest=ts, inclusive=True,
                                             limit=1).get("messages", [])
        if not found or found[0].get("ts") != ts:
            found = [m for m in client.conversations_replies(channel=channel, ts=ts).get("messages", [])
                     if m.get("ts") == ts]
    except SlackApiError as err:
        log.info("no message %s in %s to open a ticket from: %s", ts, channel, err.response.get("error"))
        return None
    return found[0] if found else None
