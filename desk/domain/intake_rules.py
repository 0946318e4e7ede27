"""Whose request a message becomes (DESIGN.md, Slack behaviour: Roles, Other intake).

A council member opens tickets only in their own council's channels, and only for their own council's
words: a :ticket: reaction or the message shortcut on another council's member's message opens nothing,
whichever channel it is in (else one council could file another's text, with that person as requester,
into its own queue). The requester is the message's author when the author is of the same council; when
the author is not a council member at all (an engineer, a guest), it is the person acting.

Support staff (who must hold `Power.RAISE_FOR_COUNCIL`) act in a council's channel on that council's
behalf, and the requester is the message's author, as it always was.
"""

from __future__ import annotations

from desk.domain.identity import OrgIdentity, Standing, place
from desk.domain.roles import Power, require
from desk.domain.tenancy import Actor, Directory
from desk.errors import PermissionDenied

NOT_YOUR_CHANNEL = ("desk opens your council's tickets from your council's own support channel: this channel "
                    "is not your council's, so nothing was opened.")
NOT_YOUR_COUNCIL = ("That message was written by someone from another council: desk opens tickets only for "
                    "your own council's messages, so nothing was opened.")


def requester_for(actor: Actor, directory: Directory, *, channel: str | None, author: str | None,
                  author_team: OrgIdentity | str | None) -> str:
    """The requester of a ticket opened from a message (`author`, of organisation `author_team`) by `actor`
    in `channel`; `PermissionDenied` when nothing may be opened."""
    if actor.is_council:
        if channel is None or directory.council_by_channel.get(channel) != actor.council_id:
            raise PermissionDenied(NOT_YOUR_CHANNEL)
        if not author or author == actor.user:
            return actor.user
        placement = place(OrgIdentity.of(author_team), council_by_team=directory.council_by_team,
                          support_team=directory.support_team)
        if placement.standing is Standing.CLASH:  # an author desk cannot place: never someone else's words
            raise PermissionDenied(NOT_YOUR_COUNCIL)
        author_council = placement.council_id
        if author_council == actor.council_id:
            return author
        if author_council is not None:
            raise PermissionDenied(NOT_YOUR_COUNCIL)
        return actor.user  # support staff's or a guest's words, raised by this council member
    if actor.from_support_team and actor.council_id is not None:
        require(actor, Power.RAISE_FOR_COUNCIL)  # the support organisation is not the support team
        return author or actor.user
    raise PermissionDenied("desk opens tickets for partner councils, from a council's channel")
