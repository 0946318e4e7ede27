"""`/desk`: open a request (modal), `/desk status REF`, `/desk list`, `/desk search WORDS`, `/desk help`,
`/desk report` (managers), `/desk problem …` (engineers: desk/slack/listeners/problems.py).

The council is never a form field: it comes from who is asking (and, for support staff, from the council
channel they ask in). Council staff open requests in their own council's channels (or a direct message
with desk) and see only their council's tickets; looking across councils is a support power
(`Power.SEE_ALL_COUNCILS`), held by the people the registry names, not by everyone in the support
organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from desk.db.engine import unit_of_work
from desk.domain.roles import Power, require
from desk.domain.tenancy import Actor, ActorKind
from desk.errors import NotFound, PermissionDenied
from desk.services import intake, queues, search, tenancy
from desk.services.read_models import summarize
from desk.slack.blocks import Message, modals, replies
from desk.slack.blocks import search as search_blocks
from desk.slack.context import actor_for, answer, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import SLASH_COMMAND
from desk.slack.listeners import problems as problem_command
from desk.slack.listeners import report_command
from desk.slack.metadata import IntakeContext


def _ack(ack: Ack) -> None:
    ack()


def _own_channel(session, council_id: str | None, channel: str) -> None:
    """A council member's requests start in their council's channel, or a direct message with desk (D…)."""
    if channel.startswith("D") or tenancy.is_council_channel(session, channel, council_id):
        return
    raise PermissionDenied("Please open requests from your council's support channel (or a direct message "
                           "with desk): this channel is not your council's.")


def _search(session: Session, actor: Actor, words: str, now: datetime) -> Message:
    """`/desk search WORDS`: the search is scoped by who asks, in the query, never by filtering after."""
    scope = search.Scope.council(actor.council_id) if actor.is_council else search.Scope.every_council()
    hits = search.search(session, words, scope=scope, now=now, limit=replies.LIST_LENGTH + 1)
    name = intake.council_name(session, actor.council_id) if actor.is_council else None
    return search_blocks.results(words, [h.ticket for h in hits], now, council_name=name)


def register(app: App, deps: Deps) -> None:
    @guarded
    def on_desk(body: dict, client: WebClient, respond: Any, **_: Any) -> None:
        words = (body.get("text") or "").split()
        verb = words[0].lower() if words else "new"
        now = deps.clock.now()
        # A command's top-level team_id may be the installing workspace: ask Slack who the person is.
        team = deps.identities.of_command(client, body)
        roles = roles_for(client, deps, user=body["user_id"], team=team)
        if verb == "report":  # service managers only: who may ask is settled before anything is read
            report_command.post_report(body, client, respond, deps, words[1:], team, roles)
            return
        if verb == "problem":  # engineers only: refused before anything about a problem is read
            problem_command.command(body, client, respond, deps, team, roles)
            return
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=body["user_id"], team=team, channel=body.get("channel_id"), roles=roles)
            if actor.kind is ActorKind.UNKNOWN:
                raise PermissionDenied("desk serves the partner councils of the Income Management System "
                                       "support service; this workspace is not one of them.")
            if not actor.is_council and verb in ("status", "list", "search"):
                require(actor, Power.SEE_ALL_COUNCILS)
            if verb == "status" and len(words) == 2:
                council_scope = actor.council_id if actor.is_council else None
                ticket = intake.find_ticket(session, words[1], council_id=council_scope)
                if ticket is None:
                    raise NotFound(f"no ticket {words[1].upper()}")
                message = replies.status(summarize(session, ticket, now), now)
            elif verb == "list":
                if actor.is_council:
                    tickets = queues.council_tickets(session, council_id=actor.council_id, now=now)
                    message = replies.ticket_list(intake.council_name(session, actor.council_id), tickets, now)
                elif len(words) > 1:  # support: one queue (`/desk list unassigned`), maybe of one council
                    name, council_id = queues.parse_list(session, words[1:])
                    found = queues.queue(session, name, user=actor.user, now=now, council_id=council_id,
                                         limit=replies.LIST_LENGTH)
                    message = replies.ticket_list(None, found.tickets, now, total=found.total,
                                                  heading=queues.describe(name, council_id))
                else:
                    message = replies.ticket_list(None, queues.open_tickets(session, now=now), now)
            elif verb == "search":  # a council's own tickets; support: every council's
                message = _search(session, actor, (body.get("text") or "").strip()[len(verb):], now)
            elif verb == "new":
                if actor.is_council:
                    _own_channel(session, actor.council_id, body.get("channel_id") or "")
                else:
                    require(actor, Power.RAISE_FOR_COUNCIL)
                intake.council_for(actor)  # refuses support staff outside a council channel
                categories = intake.categories(session, actor.council_id)
                message = None
            else:
                message = replies.help()
        if message is None:
            context = IntakeContext(channel=body.get("channel_id"))
            client.views_open(trigger_id=body["trigger_id"], view=modals.intake(categories, context))
            return
        answer(respond, message)

    app.command(SLASH_COMMAND)(ack=_ack, lazy=[on_desk])
