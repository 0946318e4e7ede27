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
from desk.domain.tenancy import Actor
from desk.services import intake, queues, tenancy
from desk.slack import posting
from desk.slack.blocks import home
from desk.slack.context import actor_for, guarded, team_of
from desk.slack.deps import Deps
from desk.slack.ids import TICKET_REACTION
from desk.slack.receipt import kept

log = logging.getLogger("desk.slack")

# Message subtypes that are a person saying something; edits, joins, bot posts and the like are not.
SPOKEN = (None, "thread_broadcast", "file_share")
EVENTS = ("message", "reaction_added", "app_home_opened")


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
        team = team_of(client, event["user"], event.get("user_team") or event.get("team"), deps.teams)

        def record() -> tuple[intake.Opened | None, str | None]:
            """One transaction: the event's id and its effect (a new ticket, or a reply on one)."""
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"event:{body.get('event_id') or ts}", "event", now):
                    return None, None
                actor = actor_for(session, user=event["user"], team=team, channel=channel)
                if thread_ts and thread_ts != ts:
                    outcome = intake.thread_message(session, actor=actor, channel=channel, thread_ts=thread_ts,
                                                    text=text, at=now)
                    return None, outcome.ticket.ref if outcome else None
                if actor.is_council and tenancy.is_council_channel(session, channel, actor.council_id):
                    opened = intake.open_request(session, actor=actor, text=text, at=now,
                                                 requester=event["user"], channel=channel, ts=ts)
                    return opened, opened.ticket.ref
                return None, None

        opened, ref = patiently(record, what=f"recording message {body.get('event_id') or ts}")
        if opened is not None:
            posting.announce(client, deps, opened.ticket.ref, opens_at=opened.opens_at)
        elif ref is not None:
            posting.refresh_card(client, deps, ref)

    @guarded
    @kept(deps.receipts, "reaction_added")
    def on_reaction(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != TICKET_REACTION or item.get("type") != "message":
            return
        channel, ts, author = item.get("channel"), item.get("ts"), event.get("item_user")
        now = deps.clock.now()
        team = team_of(client, event.get("user", ""), event.get("user_team"), deps.teams)

        def first_look() -> Actor | None:
            with unit_of_work(deps.engine) as session:
                actor = actor_for(session, user=event.get("user", ""), team=team, channel=channel)
                if not (actor.is_council or actor.is_support) or actor.council_id is None:
                    return None  # not a partner, or not in a council's channel: nothing to say
                if intake.find_ticket_for_message(session, channel, ts) is not None:
                    return None  # one ticket per message
                return actor

        actor = patiently(first_look, what=f"recording reaction {body.get('event_id')}")
        if actor is None:
            return
        text = _message_text(client, channel, ts)
        if text is None:
            return

        def record() -> intake.Opened | None:
            """One transaction: the event's id and the ticket (a crash before it leaves the event to rework)."""
            with unit_of_work(deps.engine) as session:
                if not intake.first_time(session, f"event:{body.get('event_id')}", "event", now):
                    return None
                return intake.open_request(session, actor=actor, text=text, at=now,
                                           requester=author or actor.user, channel=channel, ts=ts)

        opened = patiently(record, what=f"opening a ticket for reaction {body.get('event_id')}")
        if opened is None:
            return
        posting.announce(client, deps, opened.ticket.ref, opens_at=opened.opens_at)

    @guarded
    def on_home(body: dict, client: WebClient, event: dict, **_: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        now = deps.clock.now()
        team = team_of(client, user, event.get("user_team") or event.get("team"), deps.teams)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user, team=team, channel=None)
            if actor.is_support:
                view = home.support(user, queues.support_queues(session, user=user, now=now), now)
            elif actor.is_council and actor.council_id:
                name = intake.council_name(session, actor.council_id)
                view = home.council(name, queues.council_tickets(session, council_id=actor.council_id, now=now), now)
            else:
                view = home.unknown()
        client.views_publish(user_id=user, view=view)

    app.event("message")(ack=_ack, lazy=[on_message])
    app.event("reaction_added")(ack=_ack, lazy=[on_reaction])
    app.event("app_home_opened")(ack=_ack, lazy=[on_home])


def _message_text(client: WebClient, channel: str, ts: str) -> str | None:
    """The text of the message a :ticket: was put on (a top-level message or a thread reply); None when
    Slack has no such message for desk (deleted, or in a conversation desk cannot read)."""
    try:
        found = client.conversations_history(channel=channel, latest=ts, inclusive=True,
                                             limit=1).get("messages", [])
        if not found or found[0].get("ts") != ts:
            found = [m for m in client.conversations_replies(channel=channel, ts=ts).get("messages", [])
                     if m.get("ts") == ts]
    except SlackApiError as err:
        log.info("no message %s in %s to open a ticket from: %s", ts, channel, err.response.get("error"))
        return None
    return found[0].get("text", "") if found else None
