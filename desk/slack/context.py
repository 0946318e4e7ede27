"""What every listener needs: who is acting (and as what), and one policy for errors.

Roles are decided before any transaction (`roles_for`): expanding a user group asks Slack, and a
database lock must not wait on Slack. The listener then builds the actor inside its transaction with
`actor_for(..., roles=...)` and asks `roles.may(actor, Power.X)`.

`guarded` is the single error handler of the lazy (after-ack) listeners: a `DeskError` becomes a message
the person sees (ephemeral, or via the request's response_url); an unreachable database is one log line
and, for a person waiting on a command or a button, "nothing was saved, try again" (work that must not be
dropped, events and submissions, waits for the database first: `desk.db.outage.patiently`); anything else
is logged with the request's id and the person is told something went wrong, never left wondering.
"""

from __future__ import annotations

import functools
import http.client
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from desk.db.engine import reading
from desk.db.outage import describe, unreachable
from desk.domain.identity import OrgIdentity
from desk.domain.roles import NO_ROLES, MembershipUnknown, Roles
from desk.domain.tenancy import Actor, with_roles
from desk.errors import DeskError
from desk.services import roles, tenancy
from desk.slack.blocks import Message, replies
from desk.slack.deps import Deps
from desk.slack.identity import Seen

log = logging.getLogger("desk.slack")


UNREACHABLE_TEXT = ("desk cannot reach its database just now, so nothing was saved. "
                    "Please try again in a minute.")
NAME_CACHE_SECONDS = 600  # people rarely change their display name
NAME_RETRY_SECONDS = 60  # a name Slack did not give is asked for again after this long


def author_team(client: WebClient, deps: Deps, author: str | None, actor: str,
                actor_team: OrgIdentity) -> OrgIdentity:
    """The organisation of a message's author (whose words a ticket would carry), for intake by reaction or
    shortcut: the actor's own when they wrote it. Slack failing is a refusal, never a guess."""
    if not author or author == actor:
        return actor_team
    try:
        return deps.identities.identify(client, author, Seen())
    except DeskError:
        raise DeskError("Slack could not say which organisation that message's author is in just now, so "
                        "nothing was opened; please try again in a minute.") from None


def actor_for(session: Session, *, user: str, team: OrgIdentity | str | None, channel: str | None,
              roles: Roles = NO_ROLES) -> Actor:
    """Who is acting (tenancy: `team` is what `Identities`, desk/slack/identity.py, made of the request),
    with the support roles `roles_for` found (kept only for the support organisation)."""
    return with_roles(tenancy.actor(session, user=user, team=team, channel=channel), roles)


def group_lookup(client: WebClient) -> roles.Lookup:
    """Members of a user group, from Slack; `MembershipUnknown` (never an empty list) when Slack cannot say."""
    def members(group: str) -> list[str]:
        try:
            return list(client.usergroups_users_list(usergroup=group).get("users", []))
        except SlackApiError as err:
            code = err.response.get("error") if isinstance(err.response.data, dict) else None
            reason = f"usergroups.users.list: {code or f'http_{err.response.status_code}'}"
        except (SlackClientError, OSError, http.client.HTTPException) as err:
            reason = f"usergroups.users.list: {type(err).__name__}"
        log.warning("user group %s not expanded (%s): its roles are refused until Slack answers", group, reason)
        raise MembershipUnknown(group, reason)

    return members


def roles_for(client: WebClient, deps: Deps, *, user: str, team: OrgIdentity | str | None) -> Roles:
    """The support roles of `user` acting from `team`: none unless `team` (its workspace or organisation)
    is the support team's. Reads the registry in its own short transaction, then asks Slack about groups
    (cached for minutes)."""
    with reading(deps.engine) as session:
        roster = roles.roster(session)
    if not user or roster.team is None or roster.team not in OrgIdentity.of(team).ids:
        return NO_ROLES
    return roles.decide(roster, user, deps.groups, group_lookup(client))


def support_member(client: WebClient, deps: Deps, user: str) -> Roles:
    """The support roles of `user` whatever organisation they act from: may this person be assigned?"""
    with reading(deps.engine) as session:
        roster = roles.roster(session)
    return roles.decide(roster, user, deps.groups, group_lookup(client)) if user else NO_ROLES


def assignable(client: WebClient, deps: Deps) -> list[tuple[str, str]]:
    """(user id, display name) of everyone the card's Assign menu may offer: the support team only."""
    with reading(deps.engine) as session:
        roster = roles.roster(session)
    return [(user, display_name(client, user, deps.names))
            for user in roles.assignable(roster, deps.groups, group_lookup(client))]


def display_name(client: WebClient, user: str, cache: dict[str, tuple[str, float]]) -> str:
    """A person's name for a menu (users.info, cached); their id when Slack does not say: a name is cosmetic."""
    cached = cache.get(user)
    if cached and time.monotonic() - cached[1] < NAME_CACHE_SECONDS:
        return cached[0]
    try:
        found = client.users_info(user=user)["user"]
    except (SlackApiError, SlackClientError, OSError, http.client.HTTPException) as err:
        log.info("users.info %s for a name failed: %s", user, type(err).__name__)
        # remembered for a while too: every card shows the Assign menu, and asking Slack again for each
        # card while it fails (or does not know the person) would slow every post behind it
        cache[user] = (user, time.monotonic() - NAME_CACHE_SECONDS + NAME_RETRY_SECONDS)
        return user
    profile = found.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or found.get("real_name") or found.get("name")
    name = str(name or user)
    cache[user] = (name, time.monotonic())
    return name


def request_id(body: dict) -> str:
    return str(body.get("event_id") or body.get("trigger_id") or body.get("view", {}).get("id") or "-")


def guarded(work: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(work)
    def run(body: dict, client: WebClient, respond: Any = None, **kwargs: Any) -> None:
        try:
            work(body=body, client=client, respond=respond, **kwargs)
        except DeskError as err:
            log.info("refused %s (%s): %s", work.__name__, request_id(body), err)
            tell(client, body, respond, str(err))
        except Exception as err:
            if unreachable(err):
                log.warning("database unreachable: %s (%s) not done: %s", work.__name__, request_id(body),
                            describe(err))
                if not body.get("event_id"):  # nobody is waiting on an event's answer
                    tell(client, body, respond, UNREACHABLE_TEXT)
                return
            log.exception("failed %s (%s)", work.__name__, request_id(body))
            tell(client, body, respond, f"Sorry, that did not work (request {request_id(body)}). "
                                        "The support team has been told.")

    return run


def answer(respond: Any, message: Message, **options: Any) -> bool:
    """An ephemeral answer through the request's `response_url`. Not retried (it answers the moment, and the
    URL expires), but never lost silently: a failure is logged, naming what was lost. True when delivered."""
    try:
        sent = respond(text=message.text, blocks=message.blocks, response_type="ephemeral", **options)
    except (SlackClientError, OSError, http.client.HTTPException) as err:
        log.warning("ephemeral reply lost (%s): %s", type(err).__name__, message.text[:80])
        return False
    status = getattr(sent, "status_code", 200)
    if status != 200:
        log.warning("ephemeral reply lost (response_url answered %s %s): %s", status,
                    str(getattr(sent, "body", ""))[:40], message.text[:80])
        return False
    return True


def tell(client: WebClient, body: dict, respond: Any, text: str) -> None:
    """Tell the acting person something only they see."""
    message = replies.notice(text)
    try:
        if respond is not None and body.get("response_url"):
            answer(respond, message, replace_original=False)
            return
        user = body.get("user", {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
        event = body.get("event", {})
        user = user or event.get("user")
        channel = body.get("channel", {}).get("id") if isinstance(body.get("channel"), dict) else None
        channel = channel or body.get("channel_id") or event.get("channel") or event.get("item", {}).get("channel")
        if user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
        elif user:
            client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks)
    except SlackApiError as err:
        log.warning("could not tell %s: %s", body.get("user"), err.response.get("error"))
    except (SlackClientError, OSError, http.client.HTTPException) as err:  # dropped or timed out
        log.warning("could not tell %s: %s", body.get("user"), type(err).__name__)
