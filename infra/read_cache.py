"""The read cache: Redis in production, process memory in the embedded stack.

Entries are never invalidated: their keys name the exact read-model state they
were computed from (read_api/cache.py), so a change makes new keys and old
entries just expire after SLOTWISE_CACHE_TTL_SECONDS (Redis) or fall out of
the least recently used end (memory). SLOTWISE_READ_CACHE=false turns it off.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Protocol, cast

import redis

from infra.breaker import Breaker

log = logging.getLogger(__name__)


class ReadCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def close(self) -> None: ...


class NoCache:
    """No cache (SLOTWISE_READ_CACHE=false): every read computes its answer."""

    def get(self, key: str) -> bytes | None:
        return None

    def put(self, key: str, value: bytes) -> None:
        return None

    def close(self) -> None:
        return None


class MemoryReadCache:
    """The embedded stack's cache: the `entries` most recently used answers of this process."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.found: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.found.get(key)
            if value is not None:
                self.found.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            self.found[key] = value
            self.found.move_to_end(key)
            while len(self.found) > self.entries:
                self.found.popitem(last=False)

    def close(self) -> None:
        with self.lock:
            self.found.clear()


class RedisReadCache:
    """Entries with a TTL; Redis being away makes reads go to the database, never fail."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_seconds: int,
        namespace: str = "slotwise:read",
        breaker: Breaker | None = None,
    ) -> None:
        self.client, self.ttl, self.namespace = client, ttl_seconds, namespace
        self.breaker = breaker or Breaker(0)

    def get(self, key: str) -> bytes | None:
        if self.breaker.open:  # Redis is away: compute the answer, do not wait on it
            return None
        try:
            return cast(bytes | None, self.client.get(f"{self.namespace}:{key}"))
        except redis.RedisError as error:
            self._away(error)
            return None

    def put(self, key: str, value: bytes) -> None:
        if self.breaker.open:
            return
        try:
            self.client.set(f"{self.namespace}:{key}", value, ex=self.ttl)
        except redis.RedisError as error:
            self._away(error)

    def _away(self, error: redis.RedisError) -> None:
        self.breaker.failed()
        log.warning("read cache unavailable, reading the database: %r", error)

    def close(self) -> None:
        self.client.close()
