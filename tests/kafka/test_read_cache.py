"""The Redis read cache never serves a slot older than the write a read waited for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, RedisLink, bootstrap, read_cache
from infra.kafka.processes import build_relay, build_worker
from infra.read_cache import RedisReadCache
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import CountingCache as Counting
from tests.kafka.conftest import Threads, Workload
from write_api.app import create_app as create_write_app

Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture
def running(container: Container, settings: Settings, threads: Threads) -> None:
    for build in (build_relay, build_worker, build_worker):
        process_container = bootstrap(settings)
        threads.start(build(process_container), process_container)


@pytest.fixture
def apps(container: Container, running: None) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_write_app(container), raise_server_exceptions=False) as write,
        TestClient(create_read_app(container), raise_server_exceptions=False) as read,
    ):
        yield write, read


def offered(read: TestClient, service: str, day: str, token: str | None = None) -> set[datetime]:
    headers = {"X-Consistency-Token": token} if token else {}
    answer = read.get(
        f"/v1/services/{service}/availability",
        params={"from": day, "to": day},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return {datetime.fromisoformat(s["start"]) for s in answer.json()["slots"]}


@pytest.fixture
def adapters(settings: Settings) -> Iterator[dict[str, Any]]:
    """The stack's Redis read cache, counting the answers it gives."""
    redis = RedisLink.open(settings)
    assert redis is not None
    yield {"cache": Counting(read_cache(settings, redis))}
    redis.close()


def test_after_the_token_is_reached_no_stale_slot_comes_from_redis(
    container: Container,
    apps: tuple[TestClient, TestClient],
    token: Headers,
    adapters: dict[str, Any],
) -> None:
    cache = adapters["cache"]
    assert isinstance(cache.inner, RedisReadCache)
    write, read = apps
    load = Workload(container, businesses=1)
    service = str(load.services[0].id)
    setup = str(container.app.recorder.max_notification_id())
    day = load.slot(0).date().isoformat()
    offered(read, service, day, setup)
    for n in range(12):
        slot = load.slot(n)
        before = offered(read, service, day)  # the cache now holds the state before the write
        assert offered(read, service, day) == before  # ... and answers from it
        assert slot in before
        customer = token(f"customer-{n}", "customer")
        body = {"service_id": service, "start": slot.isoformat()}
        placed = write.post("/v1/bookings", json=body, headers=customer)
        assert placed.status_code == 201, placed.text

        after = offered(read, service, day, placed.headers["X-Consistency-Token"])

        assert slot not in after  # the booking is visible, never the cached state before it
        if n % 3 == 0:
            offered(read, service, day)  # cache the state with the booking
            path = f"/v1/bookings/{placed.json()['id']}/cancel"
            cancelled = write.post(path, json={"reason": "no"}, headers=customer)
            assert cancelled.status_code == 200, cancelled.text
            freed = offered(read, service, day, cancelled.headers["X-Consistency-Token"])
            assert slot in freed  # the cancellation is visible too
    assert cache.hits >= 12  # the cache really answered the repeated reads
