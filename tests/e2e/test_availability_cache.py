"""Availability answers come from the read cache until a write or the clock changes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.bootstrap import RedisLink, read_cache
from infra.read_cache import MemoryReadCache, NoCache
from infra.settings import Settings
from read_api.cache import answer_at
from tests.conftest import CountingCache as Counting
from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, BOB, MONDAY, Api


@pytest.fixture
def adapters(settings: Settings) -> Iterator[dict[str, Any]]:
    """The stack's own read cache (memory, or Redis on the production stack), counting."""
    redis = RedisLink.open(settings)
    yield {"cache": Counting(read_cache(settings, redis))}
    if redis is not None:
        redis.close()


def test_repeated_reads_are_cached_and_a_write_or_the_clock_moves_them_on(
    api: Api, clock: FrozenClock, adapters: dict[str, Any]
) -> None:
    salon = api.open_salon()
    cache = adapters["cache"]
    offered = api.starts(salon.service_id, MONDAY, salon.token)
    assert api.starts(salon.service_id, MONDAY) == offered
    assert cache.hits == 1

    placed = api.book(salon.service_id, offered[0], ANN, expect=201).json()
    after = api.starts(salon.service_id, MONDAY, placed["consistency_token"])
    assert after == offered[1:]  # never the cached answer from before the booking

    clock.now = offered[1] + timedelta(seconds=1)  # the 10:00 slot has begun
    assert api.starts(salon.service_id, MONDAY) == offered[2:]
    clock.now = offered[1] - timedelta(days=1)  # a clock set back computes afresh too
    assert api.starts(salon.service_id, MONDAY) == offered[1:]

    clock.now = offered[0] - timedelta(days=2)
    again = api.book(salon.service_id, offered[3], BOB, expect=201).json()
    assert offered[3] not in api.starts(salon.service_id, MONDAY, again["consistency_token"])


def test_the_cache_is_memory_unless_redis_is_configured_and_can_be_turned_off() -> None:
    assert isinstance(read_cache(Settings()), MemoryReadCache)
    assert isinstance(read_cache(Settings(read_cache=False)), NoCache)


def test_the_memory_cache_forgets_the_least_recently_used_answers() -> None:
    cache = MemoryReadCache(entries=2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


def test_an_entry_it_did_not_write_is_no_answer() -> None:
    assert answer_at(b'{"service_id": "x", "slots": []}', datetime.now(UTC)) is None
    assert answer_at(b"1 2 3\n{}", datetime.now(UTC)) is None
