"""Identities of the pretend workspace, and fresh Slack-shaped ids and timestamps.

Both halves of the sandbox (the Web API stand-in and the request driver) play Slack, so both need what
Slack has and desk must not fake: the wall clock (Bolt checks a request's signature timestamp against its
own clock, and message `ts` values are wall-clock instants) and ids that never repeat, not even across
runs against a database kept between demo sessions (desk dedupes on `event_id`).
"""

from __future__ import annotations

import itertools
import secrets
import string
import threading
import time

INSTALLED_TEAM_ID = "T0SUPPORT"
BOT_USER_ID = "U0DESKBOT"
BOT_ID = "B0DESKBOT"
APP_ID = "A0DESKAPP"
VERIFICATION_TOKEN = "legacy-verification-token"

_ALPHABET = string.digits + string.ascii_uppercase
_PROCESS_SALT = "".join(secrets.choice(_ALPHABET) for _ in range(4))
_counter = itertools.count(1)


def wall_time() -> float:
    """Seconds since the epoch, as Slack's servers would stamp them.

    desk's own code reads time only through `desk.clock`; the sandbox stands outside desk (it is Slack),
    so it reads the clock here, in this one function. `time_ns` is what time-machine moves too, so a test
    that travels in time signs its requests and stamps its messages in the travelled time.
    """
    return time.time_ns() / 1e9


def _base36(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def new_id(prefix: str, width: int = 7) -> str:
    """A Slack-style id (`Ev…`, `V…`, `F…`): the prefix, a per-process salt, then a counter."""
    return f"{prefix}{_PROCESS_SALT}{_base36(next(_counter), width)}"


def new_trigger_id() -> str:
    """Shaped like Slack's `12345.98765.abcd2358fdea`, which views.open checks."""
    return f"{int(wall_time())}.{next(_counter)}.{secrets.token_hex(8)}"


class TsSequence:
    """Strictly increasing Slack timestamps (`1767600000.000100`) near the wall clock.

    Slack's `ts` is a message's id inside a channel, so two messages must never share one, even when a
    test freezes time: each new value is at least one microsecond after the last. A clock that jumps back
    by more than a second is a test travelling in time, and the sequence follows it there.
    """

    def __init__(self) -> None:
        self._last_micros = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = int(wall_time() * 1_000_000)
            travelled_back = now < self._last_micros - 1_000_000
            micros = now if travelled_back else max(now, self._last_micros + 1)
            self._last_micros = micros
        seconds, fraction = divmod(micros, 1_000_000)
        return f"{seconds}.{fraction:06d}"


_shared_ts = TsSequence()


def new_ts() -> str:
    """A fresh message timestamp from the process-wide sequence (used by the request builders)."""
    return _shared_ts.next()
