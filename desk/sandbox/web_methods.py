"""What the pretend workspace remembers, and the answers Slack gives to the methods desk calls.

Answers are stateful where desk's correctness depends on Slack's state: `ts` values are unique and
increasing, chat.update only finds messages that were posted, a trigger_id can be exchanged once, a view
hash must match, the same reaction cannot be added twice, a file must be uploaded before it is completed.
A stand-in that said `ok` to everything would hide exactly the bugs these rules catch.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from typing import Any

from desk.sandbox.ids import APP_ID, new_id, new_ts, wall_time

Answer = dict[str, Any]
TRIGGER_ID = re.compile(r"^\d+\.\d+\.[0-9A-Za-z]+$")


class SlackError(Exception):
    """An `ok: false` answer; `messages` fill `response_metadata.messages` as Slack does."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)


class Workspace:
    """The state behind the Web API: users, channels and user groups a test fills, the rest the app makes."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.base_url = ""
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, str] = {}
        self.reactions: set[tuple[str, str, str]] = set()
        self.exchanged_triggers: set[str] = set()
        self.files: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}

    def answer(self, method: str, args: dict[str, Any]) -> Answer:
        """The body of a successful answer, or SlackError; methods desk does not use simply say ok."""
        handler = _ANSWERS.get(method)
        return {"ok": True} if handler is None else {"ok": True, **handler(self, args)}

    # --- identity -------------------------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> Answer:
        return {
            "url": "https://example.slack.com/", "team": "Support", "user": "desk", "team_id": self.team_id,
            "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False,
        }

    def _users_info(self, args: dict[str, Any]) -> Answer:
        user = self.users.get(str(args["user"]))
        if user is None:
            raise SlackError("user_not_found")
        full = {"deleted": False, "is_bot": False, "is_app_user": False, "tz": "Europe/London", **user}
        full.setdefault("profile", {"real_name": full.get("real_name", ""),
                                    "display_name": full.get("name", "")})
        return {"user": full}

    def _usergroups_users_list(self, args: dict[str, Any]) -> Answer:
        if args["usergroup"] not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.usergroups[args["usergroup"]])}

    # --- conversations --------------------------------------------------------------------------------

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _conversations_info(self, args: dict[str, Any]) -> Answer:
        channel = self._channel(str(args["channel"]))
        defaults = {
            "id": args["channel"], "is_channel": True, "is_private": False, "is_archived": False,
            "is_member": True, "is_ext_shared": False, "context_team_id": self.team_id,
            "shared_team_ids": [self.team_id],
        }
        return {"channel": {**defaults, **{k: v for k, v in channel.items() if k != "members"}}}

    def _conversations_members(self, args: dict[str, Any]) -> Answer:
        members = list(self._channel(str(args["channel"])).get("members", []))
        start = int(base64.b64decode(args["cursor"]).decode()) if args.get("cursor") else 0
        limit = int(args.get("limit") or 100)
        end = start + limit
        next_cursor = base64.b64encode(str(end).encode()).decode() if end < len(members) else ""
        return {"members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}

    # --- messages -------------------------------------------------------------------------------------

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "app_id": APP_ID,
            "team": self.team_id, "ts": ts, "text": args.get("text", ""),
        }
        for key in ("blocks", "thread_ts", "metadata", "attachments"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    def _chat_postMessage(self, args: dict[str, Any]) -> Answer:
        channel = str(args["channel"])
        if channel[:1] in ("U", "W"):  # posting to a user id opens the DM with them
            channel = "D" + channel[1:]
        ts = new_ts()
        message = self._bot_message(args, ts)
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_update(self, args: dict[str, Any]) -> Answer:
        key = (str(args["channel"]), str(args["ts"]))
        if key not in self.messages:
            raise SlackError("message_not_found")
        message = self.messages[key]
        for field in ("text", "blocks", "metadata", "attachments"):
            if field in args:
                message[field] = args[field]
        message["edited"] = {"user": self.bot_user_id, "ts": new_ts()}
        return {"channel": key[0], "ts": key[1], "text": message.get("text", ""),
                "message": copy.deepcopy(message)}

    def _chat_delete(self, args: dict[str, Any]) -> Answer:
        if self.messages.pop((str(args["channel"]), str(args["ts"])), None) is None:
            raise SlackError("message_not_found")
        return {"channel": args["channel"], "ts": args["ts"]}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> Answer:
        return {"message_ts": new_ts()}

    def _chat_scheduleMessage(self, args: dict[str, Any]) -> Answer:
        post_at = int(args["post_at"])
        if post_at <= wall_time():
            raise SlackError("time_in_past")
        return {"channel": args["channel"], "scheduled_message_id": new_id("Q"), "post_at": post_at,
                "message": self._bot_message(args, new_ts())}

    def _chat_getPermalink(self, args: dict[str, Any]) -> Answer:
        channel, ts = str(args["channel"]), str(args["message_ts"])
        permalink = f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = self.messages.get((channel, ts), {}).get("thread_ts")
        if thread_ts and thread_ts != ts:
            permalink += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _reactions_add(self, args: dict[str, Any]) -> Answer:
        name = str(args["name"])
        if ":" in name or not name:
            raise SlackError("invalid_name", "name is the emoji without colons, e.g. `ticket`")
        key = (str(args["channel"]), str(args["timestamp"]), name)
        if key in self.reactions:
            raise SlackError("already_reacted")
        self.reactions.add(key)
        return {}

    # --- views ----------------------------------------------------------------------------------------

    def _exchange_trigger(self, args: dict[str, Any]) -> None:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise SlackError("invalid_arguments", "`trigger_id` or `interactivity_pointer` is required")
        if not TRIGGER_ID.match(str(trigger)):
            raise SlackError("invalid_trigger_id")
        if trigger in self.exchanged_triggers:
            raise SlackError("exchanged_trigger_id")
        self.exchanged_triggers.add(str(trigger))

    def _store_view(self, view: dict[str, Any], *, view_id: str | None = None,
                    previous: dict[str, Any] | None = None) -> Answer:
        view_id = view_id or new_id("V")
        stored = {
            "id": view_id, "team_id": self.team_id, "private_metadata": "", "callback_id": "",
            "external_id": "", "state": {"values": {}}, "clear_on_close": False, "notify_on_close": False,
            "previous_view_id": None, **copy.deepcopy(view),
            "hash": f"{int(wall_time())}.{new_id('', 4)}",
            "root_view_id": (previous or {}).get("root_view_id", view_id),
            "app_id": APP_ID, "bot_id": self.bot_id, "app_installed_team_id": self.team_id,
        }
        self.views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_open(self, args: dict[str, Any]) -> Answer:
        self._exchange_trigger(args)
        return self._store_view(args["view"])

    def _views_push(self, args: dict[str, Any]) -> Answer:
        self._exchange_trigger(args)
        return self._store_view(args["view"])

    def _views_update(self, args: dict[str, Any]) -> Answer:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            by_external_id = {view.get("external_id"): view["id"] for view in self.views.values()}
            view_id = by_external_id.get(args["external_id"])
        elif not view_id:
            raise SlackError("invalid_arguments", "either `view_id` or `external_id` is required")
        previous = self.views.get(str(view_id))
        if previous is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != previous["hash"]:
            raise SlackError("hash_conflict")
        return self._store_view(args["view"], view_id=str(view_id), previous=previous)

    def _views_publish(self, args: dict[str, Any]) -> Answer:
        user_id = str(args["user_id"])
        if args["view"].get("type") != "home":
            raise SlackError("invalid_arguments", "views.publish takes a view of type `home`")
        view_id = self.home_views.get(user_id)
        previous = self.views.get(view_id) if view_id else None
        if previous is not None and args.get("hash") and args["hash"] != previous["hash"]:
            raise SlackError("hash_conflict")
        answer = self._store_view(args["view"], view_id=view_id, previous=previous)
        self.home_views[user_id] = answer["view"]["id"]
        return answer

    # --- files ----------------------------------------------------------------------------------------

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> Answer:
        file_id = new_id("F")
        self.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"])}
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> Answer:
        entries = args["files"]
        if isinstance(entries, str):
            entries = json.loads(entries)
        completed = []
        for entry in entries:
            file_id = entry.get("id")
            if file_id not in self.files or file_id not in self.uploads:
                raise SlackError("file_not_found", f"file {file_id!r} was not uploaded to its upload_url")
            record = self.files[file_id]
            record.update(title=entry.get("title") or record["name"], size=len(self.uploads[file_id]))
            completed.append({k: v for k, v in record.items() if k != "length"})
        return {"files": completed}


_ANSWERS: dict[str, Callable[[Workspace, dict[str, Any]], Answer]] = {
    "auth.test": Workspace._auth_test,
    "users.info": Workspace._users_info,
    "usergroups.users.list": Workspace._usergroups_users_list,
    "conversations.info": Workspace._conversations_info,
    "conversations.members": Workspace._conversations_members,
    "chat.postMessage": Workspace._chat_postMessage,
    "chat.update": Workspace._chat_update,
    "chat.delete": Workspace._chat_delete,
    "chat.postEphemeral": Workspace._chat_postEphemeral,
    "chat.scheduleMessage": Workspace._chat_scheduleMessage,
    "chat.getPermalink": Workspace._chat_getPermalink,
    "reactions.add": Workspace._reactions_add,
    "views.open": Workspace._views_open,
    "views.push": Workspace._views_push,
    "views.update": Workspace._views_update,
    "views.publish": Workspace._views_publish,
    "files.getUploadURLExternal": Workspace._files_getUploadURLExternal,
    "files.completeUploadExternal": Workspace._files_completeUploadExternal,
}
