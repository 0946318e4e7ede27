"""The small hierarchy of errors desk raises on purpose.

    DeskError                   anything a person can act on; `str(err)` is the message to show
    ├── ConfigError             a missing or malformed setting (names the variable)
    ├── PlaybookInvalid         a playbook directory that cannot be loaded (carries every problem)
    ├── InvalidInput            a request, file or argument that does not say something desk can do
    ├── NotFound                a council, ticket or playbook that does not exist (or is not yours)
    ├── InvalidTransition       a status change the lifecycle does not allow
    ├── PermissionDenied        an action this person may not take
    │   └── RoleUnknown         ... or not yet: Slack could not say whether they hold a role
    └── AuditChainBroken        the event log's hash chain does not verify
"""

from __future__ import annotations

from dataclasses import dataclass


class DeskError(Exception):
    """Base class: the message is meant for a person."""


class ConfigError(DeskError):
    pass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a playbook file: rendered as `file: key: problem`."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}" if self.key else f"{self.file}: {self.message}"


class PlaybookInvalid(DeskError):
    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InvalidInput(DeskError):
    pass


class NotFound(DeskError):
    pass


class InvalidTransition(DeskError):
    def __init__(self, ref: str, current: str, wanted: str):
        self.ref, self.current, self.wanted = ref, current, wanted
        super().__init__(f"{ref} is {current}: it cannot move to {wanted}")


class PermissionDenied(DeskError):
    pass


class AuditChainBroken(DeskError):
    def __init__(self, council_id: str, seq: int, reason: str):
        self.council_id, self.seq, self.reason = council_id, seq, reason
        super().__init__(f"{council_id}: event {seq}: {reason}")


class RoleUnknown(PermissionDenied):
    """Slack could not say whether someone holds a role (a user group it could not list): refused, not guessed."""
