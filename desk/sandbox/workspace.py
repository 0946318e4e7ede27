"""What the pretend workspace remembers, and how its answers are found.

Answers are stateful where desk's correctness depends on Slack's state: `ts` values are unique and
increasing, chat.update only finds messages that exist, history and threads return what was posted, a
trigger_id can be exchanged once, a view hash must match, the same reaction cannot be added twice, a file
must be uploaded before it is completed. A stand-in that said `ok` to everything would hide exactly the
bugs these rules catch. The answers live in `web_*` modules, one per area of the API (see `web_methods`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Answer = dict[str, Any]
Args = dict[str, Any]


class SlackError(Exception):
    """An `ok: false` answer; `messages` fill `response_metadata.messages` as Slack does."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)


class Workspace:
    """The state behind the Web API. Tests fill users, channels, user groups and people's messages."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.base_url = ""
        self.users: dict[str, dict[str, Any]] = {}
        self.teams: dict[str, dict[str, Any]] = {}  # workspace id -> team.info fields ("enterprise_id" on Grid)
        self.channels: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, str] = {}
        self.reactions: set[tuple[str, str, str]] = set()
        self.exchanged_triggers: set[str] = set()
        self.files: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        # (conversation, ts) -> an ephemeral message, with "ephemeral_to": the one person who sees it
        self.ephemeral: dict[tuple[str, str], dict[str, Any]] = {}
        # response_url path -> where its messages land: {"channel", "user", "message_ts"?, "ephemeral"?}
        self.hook_routes: dict[str, dict[str, Any]] = {}
        # trigger_id -> the view opened with it (so whoever sent the trigger can find the modal)
        self.view_triggers: dict[str, str] = {}


Handler = Callable[[Workspace, Args], Answer]
