"""Who is who: auth.test, users.info, user groups, and channels (info and members).

Users, teams, channels and user groups come from what the test put in the workspace; an id it did not add is
`user_not_found` / `channel_not_found` / `no_such_subteam`, as in a real workspace.
"""

from __future__ import annotations

import base64
from typing import Any

from desk.sandbox.workspace import Answer, Args, Handler, SlackError, Workspace


def auth_test(workspace: Workspace, args: Args) -> Answer:
    return {
        "url": "https://example.slack.com/", "team": "Support", "user": "desk", "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id, "bot_id": workspace.bot_id, "is_enterprise_install": False,
    }


def users_info(workspace: Workspace, args: Args) -> Answer:
    user = workspace.users.get(str(args["user"]))
    if user is None:
        raise SlackError("user_not_found")
    full = {"deleted": False, "is_bot": False, "is_app_user": False, "tz": "Europe/London", **user}
    full.setdefault("profile", {"real_name": full.get("real_name", ""), "display_name": full.get("name", "")})
    return {"user": full}


def team_info(workspace: Workspace, args: Args) -> Answer:
    """A team's name and domain; a workspace of an Enterprise Grid organisation names it (`enterprise_id`)."""
    team_id = str(args.get("team") or workspace.team_id)
    found = workspace.teams.get(team_id)
    if found is None and team_id != workspace.team_id:
        raise SlackError("team_not_found")
    team = {"id": team_id, "name": team_id, "domain": team_id.lower(), "email_domain": "",
            "icon": {"image_default": True}, **(found or {})}
    return {"team": team}


def usergroups_users_list(workspace: Workspace, args: Args) -> Answer:
    if args["usergroup"] not in workspace.usergroups:
        raise SlackError("no_such_subteam")
    return {"users": list(workspace.usergroups[args["usergroup"]])}


def channel(workspace: Workspace, channel_id: str) -> dict[str, Any]:
    found = workspace.channels.get(channel_id)
    if found is None:
        raise SlackError("channel_not_found")
    return found


def conversations_info(workspace: Workspace, args: Args) -> Answer:
    found = channel(workspace, str(args["channel"]))
    defaults = {
        "id": args["channel"], "is_channel": True, "is_private": False, "is_archived": False,
        "is_member": True, "is_ext_shared": False, "context_team_id": workspace.team_id,
        "shared_team_ids": [workspace.team_id],
    }
    return {"channel": {**defaults, **{key: value for key, value in found.items() if key != "members"}}}


def page(items: list[Any], args: Args, default_limit: int = 100) -> tuple[list[Any], str]:
    """One page of `items` and the cursor of the next (empty at the end): Slack's cursor pagination."""
    start = int(base64.b64decode(args["cursor"]).decode()) if args.get("cursor") else 0
    end = start + int(args.get("limit") or default_limit)
    next_cursor = base64.b64encode(str(end).encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor


def conversations_members(workspace: Workspace, args: Args) -> Answer:
    members, next_cursor = page(list(channel(workspace, str(args["channel"])).get("members", [])), args)
    return {"members": members, "response_metadata": {"next_cursor": next_cursor}}


ANSWERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "usergroups.users.list": usergroups_users_list,
    "team.info": team_info,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
}
