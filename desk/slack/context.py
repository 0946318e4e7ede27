"""What every listener needs: who is acting, and one policy for errors.

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
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from desk.db.outage import describe, unreachable
from desk.domain.identity import OrgIdentity
from desk.domain.tenancy import Actor
from desk.errors import DeskError
from desk.services import tenancy
from desk.slack.blocks import Message, replies

log = logging.getLogger("desk.slack")


UNREACHABLE_TEXT = ("desk cannot reach its database just now, so nothing was saved. "
                    "Please try again in a minute.")
def actor_for(session: Session, *, user: str, team: OrgIdentity | str | None, channel: str | None) -> Actor:
    """`team`: what `Identities` (desk/slack/identity.py) made of the request."""
    return tenancy.actor(session, user=user, team=team, channel=channel)


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
