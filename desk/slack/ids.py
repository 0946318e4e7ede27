"""Every Block Kit id desk sends and listens for, in one place.

Action ids are stable API between messages already posted in Slack and the code that handles their
buttons: rename one and every old card's buttons stop working. Add, never rename.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # triage card and App Home queue buttons (button value: TicketRef JSON)
    CLAIM = "desk.claim"
    ASSIGN = "desk.assign"  # users_select on the card
    CHANGE_PRIORITY = "desk.priority"  # opens the priority modal
    SET_STATUS = "desk.status"  # static_select of open statuses
    RESOLVE = "desk.resolve"  # opens the resolve modal
    REOPEN = "desk.reopen"
    OPEN_TICKET = "desk.open_ticket"  # a link-style button to the council thread; acked, no effect
    LINK_PROBLEM = "desk.link_problem"  # opens the "Link to problem" modal (value: TicketRef JSON)
    UNLINK_PROBLEM = "desk.unlink_problem"  # value: ProblemLink JSON (the ticket and the problem it leaves)
    REPLY_WITH = "desk.reply_with"  # static_select of saved replies; opens the saved-reply modal
    EDIT_RESOLUTION = "desk.edit_resolution"  # on a resolved ticket's card: edit the resolution note
    # council thread
    RATE = "desk.rate"  # button value: RatingValue JSON
    NOT_FIXED = "desk.not_fixed"  # on the resolution message, until the ticket closes; opens a modal
    # App Home
    NEW_REQUEST = "desk.new_request"  # opens the intake modal


class View(StrEnum):
    """Modal `callback_id`s."""

    INTAKE = "desk.intake"
    PRIORITY = "desk.priority_modal"
    RESOLVE = "desk.resolve_modal"
    NOT_FIXED = "desk.not_fixed_modal"  # the council's reason for reopening
    WAITING = "desk.waiting_modal"  # "waiting on council": what support needs from the council
    LINK_PROBLEM = "desk.link_problem_modal"  # link a ticket to an open problem, or start one from it
    NEW_PROBLEM = "desk.new_problem_modal"  # `/desk problem new`: a problem with no ticket yet
    SAVED_REPLY = "desk.saved_reply_modal"  # a saved reply filled in, for editing before it is posted
    EDIT_RESOLUTION = "desk.edit_resolution_modal"  # a resolved ticket's note, edited


class Shortcut(StrEnum):
    FROM_MESSAGE = "desk.from_message"  # message shortcut: "Open a desk ticket"
    NEW_REQUEST = "desk.new_request"  # global shortcut


class Block(StrEnum):
    """`block_id`s of modal inputs (state values are read by block id, then action id)."""

    TITLE = "title"
    DESCRIPTION = "description"
    CATEGORY = "category"
    IMPACT = "impact"
    URGENCY = "urgency"
    PRIORITY = "priority"
    REASON = "reason"
    RESOLUTION = "resolution"
    NEEDED = "needed"
    PROBLEM = "problem"  # the open problem chosen in the link modal
    PROBLEM_TITLE = "problem_title"
    PROBLEM_SUMMARY = "problem_summary"
    REPLY = "reply"


class Input(StrEnum):
    """`action_id`s of modal inputs."""

    VALUE = "value"


SLASH_COMMAND = "/desk"
TICKET_REACTION = "ticket"
