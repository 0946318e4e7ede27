"""Who is who: auth.test, users.info, team.info, user groups, and channels (info and members).

Users, teams, channels and user groups come from what the test put in the workspace; an id it did not add
is `user_not_found` / `team_not_found` / `channel_not_found` / `no_such_subteam`, as in a real workspace.
Enterprise Grid as Slack shows it: a workspace in `teams` with an `enterprise_id` is in that organisation,
so team.info answers its `enterprise_id` and users.info adds `enterprise_user` to each of its members.
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
    team = workspace.teams.get(str(full.get("team_id")), {})
    if team.get("enterprise_id") and "enterprise_user" not in full:
        full["enterprise_user"] = {
            "id": full["id"], "enterprise_id": team["enterprise_id"],
            "enterprise_name": team.get("enterprise_name", team["enterprise_id"]), "is_admin": False,
            "is_owner": False, "teams": [full["team_id"]],
        }
    return {"user": full}


def team_info(workspace: Workspace, args: Args) -> Answer:
    """A workspace the test added to `teams`, one of its people's, or (no `team`) the installation's own;
    a workspace of an Enterprise Grid organisation names it (`enterprise_id`)."""
    team_id = str(args.get("team") or workspace.team_id)
    known = {str(user.get("team_id")) for user in workspace.users.values()} | {workspace.team_id}
    if team_id not in workspace.teams and team_id not in known:
        raise SlackError("team_not_found")
    team = {"id": team_id, "name": team_id, "domain": team_id.lower(), "email_domain": "",
            "icon": {"image_default": True}, **workspace.teams.get(team_id, {})}
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
    "team.info": team_info,
    "usergroups.users.list": usergroups_users_list,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
}
