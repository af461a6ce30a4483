"""Rate limits per token subject and per client address (the `limits` library).

A sliding window counter per key, kept in memory (one process) or in Redis
(shared by every process) when SLOTWISE_REDIS is set. Each request counts
against its client address and, when it carries a valid token, against the
token's subject; the tighter of the two is what the RateLimit-* headers show.
If Redis cannot be reached in time the limiter fails open: the request is let
through, counted in `slotwise_rate_limiter_unavailable_total` and logged (once
per breaker period), and Redis is left alone for SLOTWISE_REDIS_RETRY_SECONDS.
Limits are protection, not correctness: an outage of the limiter should not
become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import limits
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from infra.breaker import Breaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quota:
    """Where a caller stands against its tightest limit after this request."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    scope: str  # "address" or "token": which limit this is
    window: str = ""  # e.g. "1 minute"

    def headers(self) -> dict[str, str]:
        """The IETF draft's RateLimit-* fields, plus Retry-After when refused."""
        fields = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            fields["Retry-After"] = str(max(self.reset_seconds, 1))
        return fields


# Every RateLimit-* header an answer may carry (browsers are allowed to read them: CORS).
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


class RateLimiter:
    """No limits at all: what a disabled limiter is, and the interface of a real one."""

    blocking = False  # whether `check` may wait on the network

    def check(self, address: str | None, subject: str | None, api: str = "api") -> Quota | None:
        """Count one request of `api` against its address and subject; None: no limits."""
        return None


class WindowRateLimiter(RateLimiter):
    """Sliding-window limits over `limits` storage (memory:// or redis://)."""

    def __init__(
        self,
        storage_uri: str,
        per_token: str,
        per_address: str,
        prefix: str = "slotwise",
        connection_pool: Any = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.blocking = storage_uri.startswith("redis")
        options: dict[str, Any] = (
            {"key_prefix": prefix, "wrap_exceptions": True} if self.blocking else {}
        )
        if connection_pool is not None:  # the process's Redis pool, with its deadlines
            options["connection_pool"] = connection_pool
        self.storage = storage_from_string(storage_uri, **options)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.per_token, self.per_address = _item(per_token), _item(per_address)
        self.breaker = breaker or Breaker(0)
        self.on_unavailable: Callable[[], None] = lambda: None  # the metrics count these

    def check(self, address: str | None, subject: str | None, api: str = "api") -> Quota | None:
        if self.breaker.open:  # fail open without waiting on a Redis known to be away
            self.on_unavailable()
            return None
        try:
            return self._check(address, subject, api)
        except limits.errors.StorageError as error:
            self.breaker.failed()
            self.on_unavailable()
            log.warning(
                "rate limiter unavailable, letting requests through: %r", error.storage_error
            )
            return None

    def _check(self, address: str | None, subject: str | None, api: str) -> Quota | None:
        tightest: Quota | None = None
        for scope, item, key in (
            ("address", self.per_address, address),
            ("token", self.per_token, subject),
        ):
            if item is None or key is None:
                continue
            allowed = self.strategy.hit(item, api, scope, key)  # each API has its own budgets
            quota = self._quota(item, allowed, api, scope, key)
            if not allowed:
                return quota
            if tightest is None or quota.remaining < tightest.remaining:
                tightest = quota
        return tightest

    def _quota(
        self, item: limits.RateLimitItem, allowed: bool, api: str, scope: str, key: str
    ) -> Quota:
        stats = self.strategy.get_window_stats(item, api, scope, key)
        reset = max(math.ceil(stats.reset_time - time.time()), 0)
        window = f"{item.multiples} {item.GRANULARITY.name}"
        return Quota(allowed, item.amount, stats.remaining, reset, scope, window)

    def reset(self) -> None:
        """Forget every count (tests and operators' tools)."""
        self.storage.reset()


def _item(notation: str) -> limits.RateLimitItem | None:
    if notation.strip().lower() in ("", "off"):
        return None
    return limits.parse(notation)


def rate_limiter_for(
    redis_url: str,
    per_token: str,
    per_address: str,
    prefix: str,
    connection_pool: Any = None,
    breaker: Breaker | None = None,
) -> RateLimiter:
    """Redis-backed when `redis_url` is set, in memory otherwise; none when both are off."""
    if _item(per_token) is None and _item(per_address) is None:
        return RateLimiter()
    storage = redis_url or "memory://"
    pool = connection_pool if redis_url else None
    return WindowRateLimiter(storage, per_token, per_address, f"{prefix}-rl", pool, breaker)
