"""Buttons and menus: the triage card's actions (support staff only), ratings and "Not fixed" (the
council), App Home.

Support staff are the people the registry names (`roles.Power.WORK_TICKETS`), not everyone in the support
organisation; a ticket is assigned only to someone who may be (`Power.BE_ASSIGNED`), whatever a crafted
payload names.

A double click has one effect: every action re-reads the ticket and is a no-op when the change is
already made (claiming a ticket you hold, resolving a resolved ticket is refused politely, a second
rating of one resolution is ignored).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.domain.lifecycle import Status
from desk.domain.roles import Power, may, require
from desk.domain.tenancy import Actor, ActorKind
from desk.errors import InvalidInput
from desk.services import intake, threads, tickets
from desk.services.read_models import summarize
from desk.slack import lifecycle_posts, posting
from desk.slack.blocks import modals, replies
from desk.slack.blocks.text import is_user_id
from desk.slack.context import actor_for, answer, guarded, roles_for, support_member
from desk.slack.deps import Deps
from desk.slack.ids import Action
from desk.slack.metadata import IntakeContext, RatingValue, TicketRef
from desk.slack.notifier import tell_council_now

RATE_ACTION = re.compile(rf"^{re.escape(Action.RATE)}(\.[1-5])?$")


def _ack(ack: Ack) -> None:
    ack()


def _actor(deps: Deps, client: WebClient, body: dict) -> Actor:
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    team = deps.identities.of_interaction(client, body)
    roles = roles_for(client, deps, user=user.get("id", ""), team=team)
    with unit_of_work(deps.engine) as session:
        return actor_for(session, user=user.get("id", ""), team=team, channel=channel, roles=roles)


def _support(deps: Deps, client: WebClient, body: dict) -> Actor:
    actor = _actor(deps, client, body)
    require(actor, Power.WORK_TICKETS)
    return actor


def _assignee(deps: Deps, body: dict, client: WebClient) -> str:
    """The person chosen in the card's Assign menu, refused unless they may be assigned tickets."""
    action = body["actions"][0]
    chosen = (action.get("selected_option") or {}).get("value") or action.get("selected_user") or ""
    if not is_user_id(chosen):
        raise InvalidInput("that is not a person desk can assign a ticket to")
    holder = Actor(chosen, None, ActorKind.SUPPORT, roles=support_member(client, deps, chosen))
    if not may(holder, Power.BE_ASSIGNED):
        raise InvalidInput(f"{chosen} is not on the support team: tickets are assigned to support engineers "
                           "only. Nothing was changed.")
    return chosen


def _ref(deps: Deps, body: dict) -> str:
    """The ticket an action is about: from the button's value, else from the card it sits on."""
    action = body["actions"][0]
    if action.get("value"):
        return TicketRef.load(action["value"]).ref
    container = body.get("container") or {}
    with unit_of_work(deps.engine) as session:
        ticket = intake.find_ticket_for_card(session, container.get("channel_id"), container.get("message_ts"))
    if ticket is None:
        raise InvalidInput("this card no longer matches a ticket")
    return ticket.ref


def register(app: App, deps: Deps) -> None:
    def change(body: dict, client: WebClient, apply) -> None:
        actor, ref = _support(deps, client, body), _ref(deps, body)
        with unit_of_work(deps.engine) as session:
            apply(session, actor, ref, deps.clock.now())
        posting.refresh_card(client, deps, ref)
        tell_council_now(client, deps, ref)

    @guarded
    def on_claim(body: dict, client: WebClient, **_: Any) -> None:
        change(body, client, lambda s, actor, ref, now: tickets.assign(
            s, ref=ref, assignee=actor.user, actor=actor.user, at=now))

    @guarded
    def on_assign(body: dict, client: WebClient, **_: Any) -> None:
        _support(deps, client, body)
        assignee = _assignee(deps, body, client)
        change(body, client, lambda s, actor, ref, now: tickets.assign(
            s, ref=ref, assignee=assignee, actor=actor.user, at=now))

    @guarded
    def on_status(body: dict, client: WebClient, **_: Any) -> None:
        status = ((body["actions"][0].get("selected_option") or {}).get("value") or "").split("|")[-1]
        if status == Status.WAITING_ON_COUNCIL:  # the council must be told what is needed: ask first
            _support(deps, client, body)
            ref = _ref(deps, body)
            with unit_of_work(deps.engine) as session:
                t = summarize(session, intake.get_ticket(session, ref), deps.clock.now())
            if not t.is_open:
                raise InvalidInput(f"{ref} is already {t.status}")
            client.views_open(trigger_id=body["trigger_id"], view=modals.waiting(t))
            return
        change(body, client, lambda s, actor, ref, now: tickets.set_status(
            s, ref=ref, status=status, actor=actor.user, at=now))

    @guarded
    def on_reopen(body: dict, client: WebClient, **_: Any) -> None:
        actor, ref = _support(deps, client, body), _ref(deps, body)
        with unit_of_work(deps.engine) as session:
            tickets.reopen(session, ref=ref, reason="reopened from the triage card", actor=actor.user,
                           at=deps.clock.now(), via="card")
        lifecycle_posts.reopened(client, deps, ref)  # the thread is told, "Not fixed" goes, the card updates

    @guarded
    def on_priority(body: dict, client: WebClient, **_: Any) -> None:
        _support(deps, client, body)
        ref = _ref(deps, body)
        with unit_of_work(deps.engine) as session:
            t = summarize(session, intake.get_ticket(session, ref), deps.clock.now())
            priorities = intake.priorities(session, ref)
        client.views_open(trigger_id=body["trigger_id"], view=modals.priority(t, priorities))

    @guarded
    def on_resolve(body: dict, client: WebClient, **_: Any) -> None:
        _support(deps, client, body)
        ref = _ref(deps, body)
        with unit_of_work(deps.engine) as session:
            t = summarize(session, intake.get_ticket(session, ref), deps.clock.now())
        if not t.is_open:
            raise InvalidInput(f"{ref} is already {t.status}")
        client.views_open(trigger_id=body["trigger_id"], view=modals.resolve(t))

    @guarded
    def on_rate(body: dict, client: WebClient, respond: Any, **_: Any) -> None:
        rating = RatingValue.load(body["actions"][0].get("value"))
        actor = _actor(deps, client, body)
        with unit_of_work(deps.engine) as session:
            counted = intake.rate(session, actor=actor, ref=rating.ref, score=rating.score, at=deps.clock.now())
        if counted:
            message = replies.rating_thanks(rating.score)
            answer(respond, message, replace_original=False)
            posting.refresh_card(client, deps, rating.ref)

    @guarded
    def on_not_fixed(body: dict, client: WebClient, **_: Any) -> None:
        """The council's button on a resolution message: ask why, in a modal (the submission reopens)."""
        ref, actor = TicketRef.load(body["actions"][0].get("value")).ref, _actor(deps, client, body)
        with unit_of_work(deps.engine) as session:
            threads.check_not_fixed(session, actor=actor, ref=ref)
            t = summarize(session, intake.get_ticket(session, ref), deps.clock.now())
        client.views_open(trigger_id=body["trigger_id"], view=modals.not_fixed(t))

    @guarded
    def on_new_request(body: dict, client: WebClient, **_: Any) -> None:
        actor = _actor(deps, client, body)
        with unit_of_work(deps.engine) as session:
            intake.council_for(actor)
            categories = intake.categories(session, actor.council_id)
        client.views_open(trigger_id=body["trigger_id"], view=modals.intake(categories, IntakeContext()))

    def acked_only(ack: Ack) -> None:
        ack()

    app.action(Action.CLAIM)(ack=_ack, lazy=[on_claim])
    app.action(Action.ASSIGN)(ack=_ack, lazy=[on_assign])
    app.action(Action.SET_STATUS)(ack=_ack, lazy=[on_status])
    app.action(Action.REOPEN)(ack=_ack, lazy=[on_reopen])
    app.action(Action.CHANGE_PRIORITY)(ack=_ack, lazy=[on_priority])
    app.action(Action.RESOLVE)(ack=_ack, lazy=[on_resolve])
    app.action(RATE_ACTION)(ack=_ack, lazy=[on_rate])
    app.action(Action.NOT_FIXED)(ack=_ack, lazy=[on_not_fixed])
    app.action(Action.NEW_REQUEST)(ack=_ack, lazy=[on_new_request])
    app.action(Action.OPEN_TICKET)(acked_only)
