"""Redis hung, lost or away at start: the APIs answer in time, as docs/operations.md says.

Between the app and the real Redis sits a TCP proxy (tests/faultproxy.py) that is
switched to black-hole, drop or refuse connections while the app runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, FrozenClock
from tests.e2e.conftest import MONDAY, PROBLEM, WEEKDAYS
from tests.faultproxy import FaultProxy
from write_api.app import create_app as create_write_app

pytestmark = pytest.mark.redis
DEADLINE = 0.5  # SLOTWISE_REDIS_TIMEOUT_SECONDS in these tests
BOUND = 3.0  # every answer comes within this, whatever Redis does
Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture
def redis_proxy() -> Iterator[FaultProxy]:
    proxy = FaultProxy("127.0.0.1", 6379).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty(redis_proxy: FaultProxy, tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        redis=f"redis://127.0.0.1:{redis_proxy.port}/0",
        redis_prefix=f"test-{uuid.uuid4().hex[:8]}",
        redis_timeout_seconds=DEADLINE,
    )
    container = bootstrap(settings, clock=clock)
    yield container
    container.close()


@pytest.fixture
def clients(faulty: Container) -> Iterator[tuple[TestClient, TestClient]]:
    faulty.start_embedded_delivery()
    write = TestClient(create_write_app(faulty), raise_server_exceptions=False)
    read = TestClient(create_read_app(faulty), raise_server_exceptions=False)
    with write, read:
        yield write, read


def open_salon(write: TestClient, token: Headers) -> str:
    owner = token("owner-a", "owner")
    business = write.post(
        "/v1/businesses", headers=owner, json={"name": "S", "slug": "s", "timezone": "UTC"}
    ).json()["id"]
    weekly = [{"day": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS]
    write.put(f"/v1/businesses/{business}/hours", headers=owner, json={"weekly": weekly})
    body = {"name": "Cut", "duration_minutes": 60, "price": {"amount": "30.00", "currency": "EUR"}}
    service = write.post(f"/v1/businesses/{business}/services", headers=owner, json=body)
    assert service.status_code == 201, service.text
    return str(service.json()["id"])


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def book(write: TestClient, token: Headers, service: str, hour: int, **headers: str) -> Any:
    start = datetime(MONDAY.year, MONDAY.month, MONDAY.day, hour, tzinfo=UTC)
    body = {"service_id": service, "start": start.isoformat()}
    return write.post("/v1/bookings", headers={**token("ann", "customer"), **headers}, json=body)


def assert_redis_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["type"].endswith("/dependency-unavailable")
    assert response.json()["dependency"] == "redis"


def availability(read: TestClient, service: str) -> httpx.Response:
    day = MONDAY.isoformat()
    return read.get(f"/v1/services/{service}/availability", params={"from": day, "to": day})


def test_a_black_holed_redis_answers_in_time_and_ready_names_it(
    clients: tuple[TestClient, TestClient], redis_proxy: FaultProxy, token: Headers
) -> None:
    write, read = clients
    service = open_salon(write, token)
    assert read.get("/ready").status_code == 200

    redis_proxy.black_hole()

    keyed, keyed_took = timed(lambda: book(write, token, service, 10, **{"Idempotency-Key": "k1"}))
    assert_redis_unavailable(keyed)
    plain, plain_took = timed(lambda: book(write, token, service, 11))
    assert plain.status_code == 201, plain.text  # no key: Redis is not needed
    slots, read_took = timed(lambda: availability(read, service))
    assert slots.status_code == 200, slots.text  # from the database, not the cache
    ready, ready_took = timed(lambda: read.get("/ready"))
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("error")
    assert ready.json()["checks"]["read_db"] == "ok"
    assert write.get("/health").status_code == 200
    assert max(keyed_took, plain_took, read_took, ready_took) < BOUND

    redis_proxy.forward()  # back: after the retry period keys work again
    faulty_breaker = write.app.state.container.redis.breaker  # type: ignore[attr-defined]
    faulty_breaker.retry_seconds = 0
    faulty_breaker.failed()
    again = book(write, token, service, 12, **{"Idempotency-Key": "k2"})
    assert again.status_code == 201, again.text


def test_redis_dropped_mid_run_is_never_a_500(
    clients: tuple[TestClient, TestClient], redis_proxy: FaultProxy, token: Headers
) -> None:
    write, read = clients
    service = open_salon(write, token)
    assert book(write, token, service, 9, **{"Idempotency-Key": "k0"}).status_code == 201

    redis_proxy.refuse()  # Redis is gone: open connections drop, new ones are refused
    redis_proxy.drop()

    keyed, took = timed(lambda: book(write, token, service, 10, **{"Idempotency-Key": "k1"}))
    assert_redis_unavailable(keyed)
    assert took < BOUND
    assert book(write, token, service, 11).status_code == 201
    assert availability(read, service).status_code == 200
    assert faulty_metric(read, "slotwise_rate_limiter_unavailable_total") >= 1  # failed open


def faulty_metric(client: TestClient, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.mark.subprocess
@pytest.mark.parametrize("command", ["write-api", "read-api"])
def test_redis_refused_at_start_is_one_sentence_and_exit_2(
    command: str, redis_proxy: FaultProxy, tmp_path: Path
) -> None:
    redis_proxy.refuse()
    env = {
        **os.environ,
        "SLOTWISE_DATA_DIR": str(tmp_path),
        "SLOTWISE_REDIS": f"redis://127.0.0.1:{redis_proxy.port}/0",
        "SLOTWISE_REDIS_TIMEOUT_SECONDS": str(DEADLINE),
        "SLOTWISE_JWT_SECRET": JWT_SECRET,  # else the missing secret is the sentence
    }
    cli = [str(Path(sys.executable).with_name("slotwise")), command, "--port", "0"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "slotwise:" in line]
    assert errors == [errors[-1]] and errors[-1].startswith("slotwise: cannot reach Redis")
    assert "Traceback" not in done.stderr
