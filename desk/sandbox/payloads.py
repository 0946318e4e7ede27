"""Every request body builder in one namespace: `payloads.message(...)`, `payloads.block_action(...)`.

The builders live in `events` (Events API) and `interactions` (slash commands, buttons, modals,
shortcuts); this module only gathers them so a test needs one import.
"""

from __future__ import annotations

from desk.sandbox.events import (
    Payload,
    app_home_opened,
    app_mention,
    event,
    member_joined_channel,
    message,
    message_changed,
    message_deleted,
    message_event,
    reaction_added,
    rich_text,
    url_verification,
)
from desk.sandbox.interactions import (
    block_action,
    form_body,
    global_shortcut,
    interaction_body,
    message_shortcut,
    new_response_url,
    option,
    slash_command,
    static_select_value,
    users_select_value,
    view_closed,
    view_submission,
)

__all__ = [
    "Payload",
    "app_home_opened",
    "app_mention",
    "block_action",
    "event",
    "form_body",
    "global_shortcut",
    "interaction_body",
    "member_joined_channel",
    "message",
    "message_changed",
    "message_deleted",
    "message_event",
    "message_shortcut",
    "new_response_url",
    "reaction_added",
    "rich_text",
    "option",
    "slash_command",
    "static_select_value",
    "url_verification",
    "users_select_value",
    "view_closed",
    "view_submission",
]
