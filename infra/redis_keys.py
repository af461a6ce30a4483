"""Idempotency keys in Redis, with the semantics of the SQL store (infra/idempotency.py).

A key's record is one Redis string, created with `SET NX` (so exactly one
request claims it) and living for the answer's TTL; the claim's lease is a
time inside the record. A retry with the same fingerprint gets the stored
answer, a different fingerprint is refused, a retry during the lease is told
to wait, and a retry after the lease ran out takes the claim over (a Lua
compare-and-set, so only one does) and runs as a replay.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from commands.keeping import KeyedAnswer
from infra.breaker import Breaker, DependencyUnavailable
from infra.idempotency import (
    Claim,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    StoredResponse,
    check_key,
    command_id_for,
)
from infra.settings import Settings

# Replace the record only if it is still the one we read (the takeover race).
_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""


# Errors that mean Redis is away or hung, not a bug of ours.
REDIS_AWAY = (redis.ConnectionError, redis.TimeoutError)


def redis_client(settings: Settings) -> redis.Redis:
    """A client whose every call has a deadline, over a bounded pool (SLOTWISE_REDIS_*).

    A broken pooled connection (Redis restarted) is retried once on a new one; a
    timeout is not retried: the deadline is the deadline.
    """
    deadline = settings.redis_timeout_seconds
    pool = redis.BlockingConnectionPool.from_url(
        settings.redis,
        max_connections=settings.redis_pool_size,
        timeout=deadline,
        socket_timeout=deadline,
        socket_connect_timeout=deadline,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )
    return redis.Redis(connection_pool=pool)


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


class RedisIdempotencyStore:
    """Idempotency-Keys in Redis: claims, leases, stored answers and takeovers."""

    folds = False  # Redis is not the events' database: the answer is its own write

    def keeping(
        self, scope: str, key: str, fingerprint: str, answer: StoredResponse, mark: str
    ) -> KeyedAnswer:
        raise NotImplementedError("answers kept in Redis are never written with the events")

    def claim_unread(self, scope: str, key: str) -> Claim:
        raise NotImplementedError("a Redis key is claimed (SET NX) before its command runs")

    def __init__(
        self,
        client: redis.Redis,
        lease_seconds: float = 30.0,
        ttl_seconds: int = 86_400,
        namespace: str = "slotwise:idem",
        breaker: Breaker | None = None,
    ) -> None:
        self.client, self.namespace = client, namespace
        self.breaker = breaker or Breaker(0)
        self.lease_ms, self.ttl_ms = int(lease_seconds * 1000), ttl_seconds * 1000
        self._swap = client.register_script(_SWAP)

    def setup(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()

    def redis_key(self, scope: str, key: str) -> str:
        digest = hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
        return f"{self.namespace}:{digest}"

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse:
        """Claim the key for this request, or return the answer already given for it."""
        check_key(key)
        if self.breaker.open:  # refuse at once rather than wait on a Redis known to be away
            raise DependencyUnavailable("Redis (idempotency keys)", self.breaker.retry_after)
        try:
            return self._claim_key(scope, key, fingerprint)
        except REDIS_AWAY:
            self.breaker.failed()
            raise DependencyUnavailable(
                "Redis (idempotency keys)", self.breaker.retry_after
            ) from None

    def _claim_key(self, scope: str, key: str, fingerprint: str) -> Claim | StoredResponse:
        name = self.redis_key(scope, key)
        for _ in range(3):  # a concurrent claim or expiry may change the record under us
            now = _now_ms()
            fresh = {"fingerprint": fingerprint, "lease_until": now + self.lease_ms, "takeovers": 0}
            if self.client.set(name, orjson.dumps(fresh), nx=True, px=self.ttl_ms):
                return Claim(command_id_for(scope, key), replay=False)
            raw = cast(bytes | None, self.client.get(name))
            if raw is None:
                continue  # expired meanwhile: claim it anew
            outcome = self._existing(name, raw, fingerprint, now)
            if outcome is not None:
                return outcome if isinstance(outcome, StoredResponse) else self._claim(scope, key)
        raise IdempotencyKeyInFlight("another request is claiming this key; retry", 1)

    def _claim(self, scope: str, key: str) -> Claim:
        return Claim(command_id_for(scope, key), replay=True)

    def _existing(
        self, name: str, raw: bytes, fingerprint: str, now: int
    ) -> StoredResponse | bool | None:
        record: dict[str, Any] = orjson.loads(raw)
        if record["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request body or path",
                field="Idempotency-Key",
            )
        if record.get("status") is not None:
            headers = record["headers"]
            return StoredResponse(record["status"], base64.b64decode(record["body"]), headers)
        if record["lease_until"] > now:
            wait = max(1, (record["lease_until"] - now + 999) // 1000)
            raise IdempotencyKeyInFlight(
                "the first request with this key has not finished; retry later", wait
            )
        taken = {**record, "lease_until": now + self.lease_ms, "takeovers": record["takeovers"] + 1}
        if self._swap(keys=[name], args=[raw, orjson.dumps(taken)]) == 1:
            return True
        return None

    def complete(
        self, scope: str, key: str, response: StoredResponse, fingerprint: str = ""
    ) -> None:
        """Keep the answer on the claim this request holds (Redis claims stay: one round trip)."""
        name = self.redis_key(scope, key)
        raw = cast(bytes | None, self.client.get(name))
        if raw is None:
            return  # expired meanwhile: nothing left to answer with (as with the SQL store)
        record: dict[str, Any] = orjson.loads(raw)
        record.update(
            status=response.status,
            body=base64.b64encode(response.body).decode(),
            headers=response.headers,
            lease_until=0,
        )
        self.client.set(name, orjson.dumps(record), px=self.ttl_ms)

    def abandon(self, scope: str, key: str) -> None:
        """End the lease of a request that failed unexpectedly, so a retry may replay it."""
        try:
            self._abandon(scope, key)
        except REDIS_AWAY:  # the lease runs out by itself; the request's own error stands
            self.breaker.failed()

    def _abandon(self, scope: str, key: str) -> None:
        name = self.redis_key(scope, key)
        raw = cast(bytes | None, self.client.get(name))
        if raw is None:
            return
        record = orjson.loads(raw)
        if record.get("status") is None:
            self._swap(keys=[name], args=[raw, orjson.dumps({**record, "lease_until": 0})])

    def prune(self) -> int:
        """Redis expires answers by itself."""
        return 0
