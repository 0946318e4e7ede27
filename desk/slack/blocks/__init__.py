"""Pure Block Kit builders: values in, plain dicts out, ready for the Web API.

No I/O, no database, no clock: a builder takes what it shows (`TicketSummary`, `now`) and returns either a
`Message` (for chat.postMessage / chat.update / respond) or a view dict (views.open / views.publish).
Blocks are assembled with `slack_sdk.models`, whose `to_dict()` refuses most over-long fields; the
builders shorten text first, so a 10,000-character title is trimmed, never a failed post.

Modules: `text` (escaping, shortening, times), `kit` (the few block constructors, with desk's safe
defaults), `facts` (how a ticket's status and SLA are worded), then one module per surface: `cards`
(the triage channel), `replies` (council threads and `/desk` answers), `modals`, `home` (App Home).

Security contract (DESIGN.md, "Escaping"): text people typed only ever reaches Slack escaped inside
`verbatim` mrkdwn, or inside plain_text (never parsed), or as a text input's own `initial_value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
FALLBACK_MAX = 3000
"""Slack's limit for a message's `text`; desk's fallbacks stay far shorter (`FALLBACK_LENGTH`)."""
FALLBACK_LENGTH = 300
SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_MAX = 75
OPTION_MAX = 75
OPTION_VALUE_MAX = 150
MODAL_TITLE_MAX = 24
PLACEHOLDER_MAX = 150


@dataclass(frozen=True)
class Message:
    """A message's blocks and the fallback `text` Slack shows in notifications and screen readers.

    The fallback is parsed as mrkdwn too, so builders escape people's text in it just as in blocks.
    """

    text: str
    blocks: list[dict[str, Any]]

    def __post_init__(self) -> None:
        # A builder bug, not bad input: builders cap their lists and shorten their text.
        if len(self.blocks) > MESSAGE_MAX_BLOCKS:
            raise ValueError(f"a message carries at most {MESSAGE_MAX_BLOCKS} blocks, got {len(self.blocks)}")
        if len(self.text) > FALLBACK_MAX:
            raise ValueError(f"a message's text is at most {FALLBACK_MAX} characters")

    def post_kwargs(self) -> dict[str, Any]:
        """Arguments for chat.postMessage, unfurls off since desk quotes people's text.

        Only postMessage takes `unfurl_*`: chat.update and chat.postEphemeral get `text` and `blocks`.
        """
        return {"text": self.text, "blocks": self.blocks, "unfurl_links": False, "unfurl_media": False}
