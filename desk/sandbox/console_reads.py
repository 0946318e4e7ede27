"""What the console shows: the workspace's people and channels, and a conversation as one person sees it.

Read from the stand-in's state (what desk posted, updated and uploaded, and what people said), never from
desk: the console sees what Slack would show. Ephemeral messages appear only for the person they were for.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from desk.sandbox.people import Person, Population
from desk.sandbox.slack_api import SlackStandIn
from desk.sandbox.web_messages import ts_key

Message = dict[str, Any]


def conversation_of(population: Population, channel: str) -> str:
    """A person's id stands for desk's direct messages with them (D…), as chat.postMessage does."""
    if channel[:1] in ("U", "W") and population.person(channel) is not None:
        return "D" + channel[1:]
    return channel


def person_json(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "team": person.team, "role": person.role,
            "council": person.council, "title": person.title, "enterprise_id": person.enterprise_id}


def state(population: Population, now: str, violations: list[str], shortcuts: list[dict]) -> dict[str, Any]:
    return {
        "now": now,
        "council_names": dict(population.council_names),
        "people": [person_json(p) for p in population.people],
        "channels": [{"id": c.id, "name": c.name, "council": c.council, "members": list(c.members)}
                     for c in population.channels],
        "shortcuts": shortcuts,
        "commands": ["/desk"],
        "violations": violations,
    }


def _files(message: Message) -> list[dict[str, Any]]:
    return [{"id": f.get("id"), "name": f.get("name"), "title": f.get("title"),
             "url": f"/sandbox/files/{f.get('id')}"} for f in message.get("files") or []]


def _shown(message: Message, reactions: set[tuple[str, str, str]], channel: str,
           sandbox_time: Callable[[float], datetime]) -> dict[str, Any]:
    names = [r.get("name") for r in message.get("reactions") or []]
    names += [name for where, ts, name in reactions if where == channel and ts == message["ts"]]
    return {
        "ts": message["ts"], "at": sandbox_time(float(message["ts"])).isoformat(), "user": message.get("user"), "text": message.get("text", ""),
        "thread_ts": message.get("thread_ts"), "blocks": copy.deepcopy(message.get("blocks") or []),
        "files": _files(message), "edited": bool(message.get("edited")), "bot": bool(message.get("bot_id")),
        "ephemeral": bool(message.get("ephemeral_to")), "reactions": sorted(set(filter(None, names))),
    }


def messages(stand_in: SlackStandIn, population: Population, channel: str, viewer: str | None,
             sandbox_time: Callable[[float], datetime]) -> list[dict]:
    """The channel's messages oldest first, thread replies included; `viewer`'s ephemeral ones too."""
    conversation = conversation_of(population, channel)
    with stand_in.lock:
        workspace = stand_in.workspace
        found = [m for (where, _), m in workspace.messages.items() if where == conversation]
        found += [m for (where, _), m in workspace.ephemeral.items()
                  if where == conversation and viewer is not None and m.get("ephemeral_to") == viewer]
        shown = [_shown(m, workspace.reactions, conversation, sandbox_time) for m in found]
    return sorted(shown, key=lambda m: ts_key(m["ts"]))


def find_message(stand_in: SlackStandIn, population: Population, channel: str, ts: str,
                 viewer: str) -> tuple[Message, bool] | None:
    """(the message, whether it is ephemeral) as `viewer` can see it, or None."""
    conversation = conversation_of(population, channel)
    with stand_in.lock:
        found = stand_in.workspace.messages.get((conversation, ts))
        if found is not None:
            return copy.deepcopy(found), False
        ephemeral = stand_in.workspace.ephemeral.get((conversation, ts))
        if ephemeral is not None and ephemeral.get("ephemeral_to") == viewer:
            return copy.deepcopy(ephemeral), True
    return None


def view(stand_in: SlackStandIn, view_id: str | None) -> dict[str, Any] | None:
    if not view_id:
        return None
    with stand_in.lock:
        found = stand_in.workspace.views.get(view_id)
        return copy.deepcopy(found) if found is not None else None


def home_view(stand_in: SlackStandIn, user: str) -> dict[str, Any] | None:
    with stand_in.lock:
        view_id = stand_in.workspace.home_views.get(user)
    return view(stand_in, view_id)
