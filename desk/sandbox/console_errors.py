"""The console's one error: a request it refuses, or one desk refused, with what is wrong."""

from __future__ import annotations


class ActionError(Exception):
    """400/404 for a request that names nobody, nowhere or nothing there; 502 when desk refused it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
