"""Values desk round-trips through Slack (button values, modal private_metadata), as typed models.

Slack gives them back verbatim, but anyone can craft a payload: they are parsed strictly, and a value that
does not parse is a `InvalidInput` (a 4xx-style refusal), never a crash. They carry references, never
authority: who may act is decided from the request's actor, not from anything in here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desk.errors import InvalidInput


class _Round(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls, raw: str | None):
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise InvalidInput(f"this button or form is out of date or malformed ({cls.__name__})") from None


class TicketRef(_Round):
    """A ticket named by a card, queue or modal."""

    ref: str = Field(pattern=r"^[A-Z]{2,6}-[0-9]{1,9}$")


class RatingValue(_Round):
    ref: str = Field(pattern=r"^[A-Z]{2,6}-[0-9]{1,9}$")
    score: int = Field(ge=1, le=5)


class IntakeContext(_Round):
    """Where an intake modal came from: a message (shortcut) or nowhere (slash command, App Home)."""

    channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)  # the parent, when the message is a reply
    author: str | None = Field(default=None, max_length=32)


class ProblemLink(_Round):
    """A ticket and the problem it is linked to (the card's "Unlink" button): unlinking names both, so a
    second click, or a click on a card older than a re-link, changes nothing."""

    ref: str = Field(pattern=r"^[A-Z]{2,6}-[0-9]{1,9}$")
    problem: int = Field(ge=1)


class ProblemForm(_Round):
    """What a problem modal is about: the ticket it was started from (the card's "Link to problem"), or
    nothing (`/desk problem new`)."""

    ref: str | None = Field(default=None, pattern=r"^[A-Z]{2,6}-[0-9]{1,9}$")
class SavedReplyContext(_Round):
    """The saved-reply modal: which ticket, and which reply (and version) it was filled from."""

    ref: str = Field(pattern=r"^[A-Z]{2,6}-[0-9]{1,9}$")
    reply_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    version: int = Field(ge=1)
