"""Views: modals (open, push, update) and App Home tabs (publish).

Slack's rules that catch real bugs are kept: a trigger_id is exchanged once and has Slack's shape, an
update names a view that exists (by id or external_id), and a stale `hash` is a `hash_conflict`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from desk.sandbox.ids import APP_ID, new_id, wall_time
from desk.sandbox.workspace import Answer, Args, Handler, SlackError, Workspace

TRIGGER_ID = re.compile(r"^\d+\.\d+\.[0-9A-Za-z]+$")


def _exchange_trigger(workspace: Workspace, args: Args) -> None:
    trigger = args.get("trigger_id") or args.get("interactivity_pointer")
    if not trigger:
        raise SlackError("invalid_arguments", "`trigger_id` or `interactivity_pointer` is required")
    if not TRIGGER_ID.match(str(trigger)):
        raise SlackError("invalid_trigger_id")
    if trigger in workspace.exchanged_triggers:
        raise SlackError("exchanged_trigger_id")
    workspace.exchanged_triggers.add(str(trigger))


def _store(workspace: Workspace, view: dict[str, Any], *, view_id: str | None = None,
           previous: dict[str, Any] | None = None) -> Answer:
    """The view as Slack echoes it: the submitted fields plus ids, a fresh hash and empty state."""
    view_id = view_id or new_id("V")
    stored = {
        "id": view_id, "team_id": workspace.team_id, "private_metadata": "", "callback_id": "",
        "external_id": "", "state": {"values": {}}, "clear_on_close": False, "notify_on_close": False,
        "previous_view_id": None, **copy.deepcopy(view),
        "hash": f"{int(wall_time())}.{new_id('', 4)}",
        "root_view_id": (previous or {}).get("root_view_id", view_id),
        "app_id": APP_ID, "bot_id": workspace.bot_id, "app_installed_team_id": workspace.team_id,
    }
    workspace.views[view_id] = stored
    return {"view": copy.deepcopy(stored)}


def _opened(workspace: Workspace, args: Args) -> Answer:
    _exchange_trigger(workspace, args)
    answer = _store(workspace, args["view"])
    workspace.view_triggers[str(args.get("trigger_id") or args.get("interactivity_pointer"))] = answer["view"]["id"]
    return answer


def views_open(workspace: Workspace, args: Args) -> Answer:
    return _opened(workspace, args)


def views_push(workspace: Workspace, args: Args) -> Answer:
    return _opened(workspace, args)


def views_update(workspace: Workspace, args: Args) -> Answer:
    view_id = args.get("view_id")
    if not view_id and args.get("external_id"):
        by_external_id = {view.get("external_id"): view["id"] for view in workspace.views.values()}
        view_id = by_external_id.get(args["external_id"])
    elif not view_id:
        raise SlackError("invalid_arguments", "either `view_id` or `external_id` is required")
    previous = workspace.views.get(str(view_id))
    if previous is None:
        raise SlackError("not_found")
    if args.get("hash") and args["hash"] != previous["hash"]:
        raise SlackError("hash_conflict")
    return _store(workspace, args["view"], view_id=str(view_id), previous=previous)


def views_publish(workspace: Workspace, args: Args) -> Answer:
    """One Home view per user: republishing keeps its id and needs the current hash, if one is given."""
    user_id = str(args["user_id"])
    if args["view"].get("type") != "home":
        raise SlackError("invalid_arguments", "views.publish takes a view of type `home`")
    view_id = workspace.home_views.get(user_id)
    previous = workspace.views.get(view_id) if view_id else None
    if previous is not None and args.get("hash") and args["hash"] != previous["hash"]:
        raise SlackError("hash_conflict")
    answer = _store(workspace, args["view"], view_id=view_id, previous=previous)
    workspace.home_views[user_id] = answer["view"]["id"]
    return answer


ANSWERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
