"""Idempotency-Keys in Redis keep the SQL store's semantics, under concurrency too."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import redis

from infra.idempotency import (
    Claim,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    StoredResponse,
    command_id_for,
)
from infra.redis_keys import RedisIdempotencyStore
from tests.production_stack import REDIS


def store_with(lease: float) -> RedisIdempotencyStore:
    client = redis.Redis.from_url(REDIS)
    return RedisIdempotencyStore(client, lease, 60, namespace=f"test:{uuid.uuid4().hex}")


@pytest.fixture
def store() -> Iterator[RedisIdempotencyStore]:
    made = store_with(lease=30)
    made.setup()
    yield made
    made.close()


def test_of_many_concurrent_claims_of_a_key_exactly_one_wins(store: RedisIdempotencyStore) -> None:
    def claim(_: int) -> str:
        try:
            outcome = store.claim("ann", "k1", "fp")
        except IdempotencyKeyInFlight:
            return "in flight"
        return "claimed" if isinstance(outcome, Claim) else "answered"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(claim, range(64)))

    assert outcomes.count("claimed") == 1
    assert outcomes.count("in flight") == 63


def test_a_completed_key_answers_again_and_refuses_another_body(
    store: RedisIdempotencyStore,
) -> None:
    claim = store.claim("ann", "k2", "fp")
    assert claim == Claim(command_id_for("ann", "k2"), replay=False)
    answer = StoredResponse(201, b'{"id": "x"}', {"content-type": "application/json"})
    store.complete("ann", "k2", answer)

    assert store.claim("ann", "k2", "fp") == answer
    with pytest.raises(IdempotencyKeyReused):
        store.claim("ann", "k2", "another body")
    assert isinstance(store.claim("bob", "k2", "fp"), Claim)  # keys are per caller


def test_a_lapsed_lease_is_taken_over_once_as_a_replay() -> None:
    store = store_with(lease=0.2)
    try:
        assert store.claim("ann", "k3", "fp") == Claim(command_id_for("ann", "k3"), replay=False)
        with pytest.raises(IdempotencyKeyInFlight) as waiting:
            store.claim("ann", "k3", "fp")
        assert waiting.value.retry_after >= 1
        # The first request crashed: its lease runs out (polled to the millisecond it names).
        record = store.client.get(store.redis_key("ann", "k3"))
        lease_until = orjson.loads(record)["lease_until"]
        deadline = time.monotonic() + 5
        while time.time() * 1000 <= lease_until:
            assert time.monotonic() < deadline, "the lease never ran out"
            time.sleep(0.02)

        def take(_: int) -> object:
            try:
                return store.claim("ann", "k3", "fp")
            except IdempotencyKeyInFlight:
                return None

        with ThreadPoolExecutor(8) as pool:
            taken = [t for t in pool.map(take, range(16)) if t is not None]
        assert taken == [Claim(command_id_for("ann", "k3"), replay=True)]
    finally:
        store.close()


def test_an_abandoned_claim_can_be_replayed_at_once(store: RedisIdempotencyStore) -> None:
    store.claim("ann", "k4", "fp")
    store.abandon("ann", "k4")
    assert store.claim("ann", "k4", "fp") == Claim(command_id_for("ann", "k4"), replay=True)


def test_the_answer_expires_with_its_ttl(store: RedisIdempotencyStore) -> None:
    store.claim("ann", "k5", "fp")
    store.complete("ann", "k5", StoredResponse(200, b"{}", {}))
    ttl = store.client.pttl(store.redis_key("ann", "k5"))
    assert 0 < int(ttl) <= 60_000  # type: ignore[arg-type]
