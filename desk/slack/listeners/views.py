"""Modals and shortcuts: the intake form (from /desk, App Home, or a message), priority and resolve forms,
the council's "Not fixed" reason.

Submissions are checked in the ack (a missing reason is shown on the form itself), then acted on once:
the view's id is recorded in the same transaction as the effect, so a double submit has one effect. Their
work is `kept`: stored before the ack and worked again if the process dies (desk/slack/receipt.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App
from slack_sdk import WebClient

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.domain.intake_rules import requester_for
from desk.domain.roles import Power, require
from desk.errors import InvalidInput
from desk.services import intake, tenancy, threads, tickets
from desk.slack import lifecycle_posts, posting
from desk.slack.blocks import modals
from desk.slack.context import actor_for, author_team, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import Block, Input, Shortcut, View
from desk.slack.metadata import IntakeContext, TicketRef
from desk.slack.notifier import tell_council_now
from desk.slack.receipt import kept

F = TypeVar("F", bound=Callable[..., Any])

REQUIRED = {View.INTAKE: (Block.TITLE,), View.PRIORITY: (Block.PRIORITY, Block.REASON),
            View.RESOLVE: (Block.RESOLUTION,), View.NOT_FIXED: (Block.REASON,), View.WAITING: (Block.NEEDED,)}


def value(view: dict, block: str) -> str | None:
    """A modal input's value by block id (text inputs and static selects alike); None when it is missing
    or not shaped as Slack sends it (a crafted payload must not break the ack)."""
    field: object = view
    for key in ("state", "values", block, Input.VALUE):
        field = field.get(key) if isinstance(field, dict) else None
    if not isinstance(field, dict):
        return None
    option = field.get("selected_option")
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return option["value"]
    text = field.get("value")
    return text.strip() if isinstance(text, str) and text.strip() else None


def _missing(view: dict) -> dict[str, str]:
    return {str(b): "Required" for b in REQUIRED.get(view.get("callback_id"), ()) if value(view, b) is None}


def form_check(missing: Callable[[dict], dict[str, str]]) -> Callable[[Ack, dict], None]:
    """A form's ack: its errors on the fields `missing` names (the form stays open in Slack), else plain."""
    def check(ack: Ack, view: dict) -> None:
        errors = missing(view)
        ack(response_action="errors", errors=errors) if errors else ack()

    return check


def when_accepted(missing: Callable[[dict], dict[str, str]]) -> Callable[[F], F]:
    """The work of a form, run only when its ack accepted it (put it under `@kept`, which then marks the
    row done). Bolt starts a listener's work whatever its ack said, but a submission answered with errors
    stays open in Slack to be corrected and submitted again under the same view id: its work would act on
    what was missing, and record the view id the corrected submission needs."""
    def wrap(work: F) -> F:
        @functools.wraps(work)
        def accepted(**kwargs: Any) -> None:
            if not missing(kwargs["view"]):
                work(**kwargs)

        return accepted  # type: ignore[return-value]

    return wrap


_check = form_check(_missing)


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, deps: Deps) -> None:
    def first_submission(session, view: dict) -> bool:
        return intake.first_time(session, f"view:{view.get('id')}", "view", deps.clock.now())

    @guarded
    @kept(deps.receipts, View.INTAKE)
    @when_accepted(_missing)
    def on_intake(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        context = IntakeContext.load(view.get("private_metadata"))
        user = body["user"]
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user["id"], team=team)
        now = deps.clock.now()

        def record() -> intake.Opened | None:
            """One transaction: the view's id and the ticket (the modal has closed: this must not be dropped)."""
            with unit_of_work(deps.engine) as session:
                if not first_submission(session, view):
                    return None
                actor = actor_for(session, user=user["id"], team=team, channel=context.channel, roles=roles)
                if not actor.is_council:
                    require(actor, Power.RAISE_FOR_COUNCIL)
                description = value(view, Block.DESCRIPTION) or ""
                return intake.open_request(
                    session, actor=actor, text=description, title=value(view, Block.TITLE), at=now,
                    requester=context.author or user["id"],
                    channel=context.channel, ts=context.thread_ts or context.message_ts,
                    category=value(view, Block.CATEGORY), impact=value(view, Block.IMPACT),
                    urgency=value(view, Block.URGENCY))

        opened = patiently(record, what=f"recording submission {view.get('id')}")
        if opened is None:
            return
        posting.announce(client, deps, opened.ticket.ref, opens_at=opened.opens_at)

    def support_change(body: dict, client: WebClient, view: dict, apply) -> bool:
        """Apply a support-only change once; False for a second submission of the same view."""
        ref = TicketRef.load(view.get("private_metadata")).ref
        user = body["user"]
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user["id"], team=team)
        with unit_of_work(deps.engine) as session:
            if not first_submission(session, view):
                return False
            actor = actor_for(session, user=user["id"], team=team, channel=None, roles=roles)
            require(actor, Power.WORK_TICKETS)  # raising rolls back the submission's record: nothing changes
            apply(session, actor, ref, deps.clock.now())
        posting.refresh_card(client, deps, ref)
        tell_council_now(client, deps, ref)
        return True

    @guarded
    @kept(deps.receipts, View.PRIORITY)
    @when_accepted(_missing)
    def on_priority(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        support_change(body, client, view, lambda s, actor, ref, now: tickets.change_priority(
            s, ref=ref, priority=value(view, Block.PRIORITY), reason=value(view, Block.REASON) or "",
            actor=actor.user, at=now))

    @guarded
    @when_accepted(_missing)
    def on_waiting(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        support_change(body, client, view, lambda s, actor, ref, now: tickets.set_status(
            s, ref=ref, status="waiting_on_council", needed=value(view, Block.NEEDED), actor=actor.user, at=now))

    @guarded
    @kept(deps.receipts, View.RESOLVE)
    @when_accepted(_missing)
    def on_resolve(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        note = value(view, Block.RESOLUTION) or ""
        # the resolution note reaches the council's thread through the outbox, sent at once by support_change
        support_change(body, client, view, lambda s, actor, ref, now: tickets.resolve(
            s, ref=ref, note=note, actor=actor.user, at=now))

    @guarded
    @when_accepted(_missing)
    def on_not_fixed(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        """The council's reason: the ticket reopens with it (once, however often the form is submitted)."""
        ref, user = TicketRef.load(view.get("private_metadata")).ref, body["user"]
        team = deps.identities.of_interaction(client, body)
        with unit_of_work(deps.engine) as session:
            if not first_submission(session, view):
                return
            actor = actor_for(session, user=user["id"], team=team, channel=None)
            threads.not_fixed(session, actor=actor, ref=ref, reason=value(view, Block.REASON) or "",
                              at=deps.clock.now())
        lifecycle_posts.reopened(client, deps, ref)

    @guarded
    def on_message_shortcut(body: dict, client: WebClient, **_: Any) -> None:
        message, channel = body.get("message") or {}, (body.get("channel") or {}).get("id")
        user = body["user"]
        team = deps.identities.of_interaction(client, body)
        roles = roles_for(client, deps, user=user["id"], team=team)
        author = message.get("user") if isinstance(message.get("user"), str) else None
        author_org = author_team(client, deps, author, user["id"], team)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user["id"], team=team, channel=channel, roles=roles)
            if not actor.is_council:
                require(actor, Power.RAISE_FOR_COUNCIL)
            intake.council_for(actor)
            requester = requester_for(actor, tenancy.directory(session), channel=channel, author=author,
                                      author_team=author_org)
            thread = message.get("thread_ts") or message.get("ts")  # a reply's ticket lives in its parent's thread
            if channel and thread and (existing := intake.find_ticket_for_message(session, channel, thread)):
                raise InvalidInput(f"that conversation is already {existing.ref}")
            categories = intake.categories(session, actor.council_id)
        text = message.get("text") or ""
        parent = message.get("thread_ts") if message.get("thread_ts") != message.get("ts") else None
        context = IntakeContext(channel=channel, message_ts=message.get("ts"), thread_ts=parent,
                                author=requester if requester != user["id"] else None)
        view = modals.intake(categories, context, title=intake.title_from(text), description=text)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @guarded
    def on_global_shortcut(body: dict, client: WebClient, **_: Any) -> None:
        user = body["user"]
        team = deps.identities.of_interaction(client, body)
        with unit_of_work(deps.engine) as session:
            actor = actor_for(session, user=user["id"], team=team, channel=None)
            intake.council_for(actor)
            categories = intake.categories(session, actor.council_id)
        client.views_open(trigger_id=body["trigger_id"], view=modals.intake(categories, IntakeContext()))

    app.view(View.INTAKE)(ack=_check, lazy=[on_intake])
    app.view(View.PRIORITY)(ack=_check, lazy=[on_priority])
    app.view(View.RESOLVE)(ack=_check, lazy=[on_resolve])
    app.view(View.NOT_FIXED)(ack=_check, lazy=[on_not_fixed])
    app.view(View.WAITING)(ack=_check, lazy=[on_waiting])
    app.view_closed(View.INTAKE)(_ack)
    app.shortcut(Shortcut.FROM_MESSAGE)(ack=_ack, lazy=[on_message_shortcut])
    app.shortcut(Shortcut.NEW_REQUEST)(ack=_ack, lazy=[on_global_shortcut])
