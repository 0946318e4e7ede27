"""Slack's Web API rate limits, for the stand-in: opt in with `SlackStandIn(rate_limits=True)`.

Slack limits each Web API method per app per workspace, by tier, and answers a call over the limit with
HTTP 429, `{"ok": false, "error": "ratelimited"}` and a `Retry-After` header in whole seconds. The figures
are the minimums Slack documents on its rate-limit page (docs.slack.dev/apis/web-api/rate-limits, and
`chat.postMessage`'s own page), which is what an app can count on:

| tier | Slack says | here (per token and method) |
| --- | --- | --- |
| Tier 1 | 1+ per minute, "a small amount of burst behavior is tolerated" | 1 a minute, bursts of 2 |
| Tier 2 | 20+ per minute, "occasional bursts" | 20 a minute, bursts of 5 |
| Tier 3 | 50+ per minute, "sporadic bursts are welcome" | 50 a minute, bursts of 10 |
| Tier 4 | 100+ per minute, "generous burst behavior" | 100 a minute, bursts of 20 |
| special: `chat.postMessage` | 1 message per second per channel, "short bursts >1 allowed" | 1 a second per channel, bursts of 3 |

The tier of each method is read from the method reference (`rate_limits`: t1..t4, t5 = special). Slack
gives no figures for the other special-tier methods (`auth.test`, `chat.getPermalink`, `oauth.*`…) nor
for `chat.postMessage`'s workspace-wide limit, so those are not limited here. The webhook endpoints
(`response_url`, the upload URL) are not Web API methods and are not limited either.

Each (token, method[, channel]) has a token bucket: `burst` calls at once, refilled at the tier's rate. A
refused call spends nothing, and its `Retry-After` is the wait until the next call would be allowed,
rounded up to a whole second as Slack sends it. A call made while its key was still told to wait is
counted in `early`: an app that honours `Retry-After` makes none.

`speed` runs Slack's minute faster (a benchmark's 400 uploads need four real minutes at Tier 4), scaling
every rate by it; `clock` (seconds, monotonic) lets a test move time by hand.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desk.sandbox.api_reference import ApiReference

PER_CHANNEL = "chat.postMessage"


@dataclass(frozen=True)
class Allowance:
    """`per_minute` calls a minute on average, with up to `burst` at once after a quiet spell."""

    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError(f"an allowance needs a positive rate and a burst of at least 1, got {self}")


TIERS: dict[str, Allowance] = {
    "t1": Allowance(1, 2),
    "t2": Allowance(20, 5),
    "t3": Allowance(50, 10),
    "t4": Allowance(100, 20),
}
POST_PER_CHANNEL = Allowance(60, 3)


@dataclass
class _Bucket:
    tokens: float
    refilled_at: float
    wait_until: float = 0.0  # the instant the last Retry-After pointed at


@dataclass(frozen=True)
class Refusal:
    """A call over its limit: the whole seconds to send in `Retry-After`, and the key it was counted under."""

    retry_after: int
    key: tuple[str, ...]

    @property
    def header(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass
class RateLimits:
    """Token buckets per token and method (per channel too for `chat.postMessage`); thread-safe."""

    tiers: Mapping[str, Allowance] = field(default_factory=lambda: dict(TIERS))
    post_per_channel: Allowance = POST_PER_CHANNEL
    speed: float = 1.0
    clock: Callable[[], float] = time.monotonic
    limited: int = 0  # calls refused so far
    early: int = 0  # calls made before the Retry-After their key was given had passed

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._tiers: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def allowance(self, reference: ApiReference, method: str) -> Allowance | None:
        """What the method is allowed, by its tier in the reference; None: not limited here."""
        if method == PER_CHANNEL:
            return self.post_per_channel
        return self.tiers.get(self._tier(reference, method) or "")

    def _tier(self, reference: ApiReference, method: str) -> str | None:
        """The method's `rate_limits` entry in the reference (read once per method), None if it has none."""
        with self._lock:
            if method in self._tiers:
                return self._tiers[method]
        tier = None
        if reference.method(method) is not None:  # a real method: its file exists and the name is safe
            raw = json.loads((reference.root / "methods" / f"{method}.json").read_text(encoding="utf-8"))
            tier = raw.get("rate_limits") if isinstance(raw.get("rate_limits"), str) else None
        with self._lock:
            self._tiers[method] = tier
        return tier

    def key(self, method: str, token: str | None, args: Mapping[str, Any]) -> tuple[str, ...]:
        workspace = token or "-"
        if method == PER_CHANNEL:
            return (workspace, method, str(args.get("channel") or "-"))
        return (workspace, method)

    def check(self, reference: ApiReference, method: str, token: str | None,
              args: Mapping[str, Any]) -> Refusal | None:
        """Count one call; a `Refusal` when it is over the limit (and then it spends nothing)."""
        allowance = self.allowance(reference, method)
        if allowance is None:
            return None
        key = self.key(method, token, args)
        interval = 60.0 / (allowance.per_minute * self.speed)
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _Bucket(float(allowance.burst), now))
            bucket.tokens = min(float(allowance.burst), bucket.tokens + (now - bucket.refilled_at) / interval)
            bucket.refilled_at = now
            if now < bucket.wait_until:
                self.early += 1
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            wait = (1.0 - bucket.tokens) * interval
            retry_after = max(1, math.ceil(wait - 1e-9))
            bucket.wait_until = max(bucket.wait_until, now + retry_after)
            self.limited += 1
            return Refusal(retry_after, key)

    def reset(self) -> None:
        """Full buckets and zero counts, as after a long quiet spell."""
        with self._lock:
            self._buckets.clear()
            self.limited = self.early = 0


def minimum_seconds(calls: int, allowance: Allowance, *, speed: float = 1.0) -> float:
    """The least time `calls` calls under one key can take when they start with a full bucket: the burst
    goes at once, every further call waits one interval."""
    interval = 60.0 / (allowance.per_minute * speed)
    return max(calls - allowance.burst, 0) * interval
