"""The read cache: Redis in production, nothing in the embedded stack.

Entries are never invalidated: their keys name the exact read-model state they
were computed from (read_api/cache.py), so a change makes new keys and old
entries just expire after SLOTWISE_CACHE_TTL_SECONDS.
"""

from __future__ import annotations

import logging
from typing import Protocol, cast

import redis

log = logging.getLogger(__name__)


class ReadCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def close(self) -> None: ...


class NoCache:
    """The embedded stack's cache: remembers nothing."""

    def get(self, key: str) -> bytes | None:
        return None

    def put(self, key: str, value: bytes) -> None:
        return None

    def close(self) -> None:
        return None


class RedisReadCache:
    """Entries with a TTL; Redis being away makes reads go to the database, never fail."""

    def __init__(
        self, client: redis.Redis, ttl_seconds: int, namespace: str = "slotwise:read"
    ) -> None:
        self.client, self.ttl, self.namespace = client, ttl_seconds, namespace

    def get(self, key: str) -> bytes | None:
        try:
            return cast(bytes | None, self.client.get(f"{self.namespace}:{key}"))
        except redis.RedisError as error:
            log.warning("read cache unavailable: %r", error)
            return None

    def put(self, key: str, value: bytes) -> None:
        try:
            self.client.set(f"{self.namespace}:{key}", value, ex=self.ttl)
        except redis.RedisError as error:
            log.warning("read cache unavailable: %r", error)

    def close(self) -> None:
        self.client.close()
