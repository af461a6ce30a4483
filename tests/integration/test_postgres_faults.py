"""A hung PostgreSQL: requests answer 503 with Retry-After within their deadline.

Between the app and the real PostgreSQL sits a TCP proxy (tests/faultproxy.py)
that black-holes the connections once the app is up: it reads what the app sends
and never answers, as a hung server or a silent network would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, SMALL_POOLS, FrozenClock
from tests.e2e.conftest import PROBLEM
from tests.faultproxy import FaultProxy
from tests.integration.test_redis_faults import availability, book, open_salon
from write_api.app import create_app as create_write_app

pytestmark = pytest.mark.postgres
DEADLINE = 1.0  # SLOTWISE_DB_REQUEST_TIMEOUT_SECONDS (and the connect timeout) here
BOUND = (
    4.5  # a pooled connection that hangs (1 s), then reconnects: 2 tries of 1 s (sslmode=prefer)
)
Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture
def pg_proxy(postgres_dsn: str) -> Iterator[FaultProxy]:
    target = urlsplit(postgres_dsn)
    proxy = FaultProxy(target.hostname or "127.0.0.1", target.port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def hung(
    pg_proxy: FaultProxy,
    postgres_dsn: str,
    postgres_schema: str,
    tmp_path: Path,
    clock: FrozenClock,
) -> Iterator[Container]:
    through = urlsplit(postgres_dsn)._replace(netloc=f"postgres@127.0.0.1:{pg_proxy.port}")
    url = f"{through.geturl()}?schema={postgres_schema}&{SMALL_POOLS}"
    settings = Settings(
        data_dir=tmp_path,
        event_store=url,
        read_db=url,
        jwt_secret=JWT_SECRET,
        db_request_timeout_seconds=DEADLINE,
        db_connect_timeout_seconds=1,
        db_pool_timeout_seconds=1,
    )
    container = bootstrap(settings, clock=clock)
    yield container
    pg_proxy.forward()
    pg_proxy.drop()
    container.close()


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["Retry-After"] == "1"
    assert response.json()["type"].endswith("/database-unavailable")


def test_a_black_holed_postgresql_is_a_503_within_the_deadline(
    hung: Container, pg_proxy: FaultProxy, token: Headers
) -> None:
    write = TestClient(create_write_app(hung), raise_server_exceptions=False)
    read = TestClient(create_read_app(hung), raise_server_exceptions=False)
    with write, read:
        service = open_salon(write, token)
        assert read.get("/ready").status_code == 200

        pg_proxy.black_hole()

        for _ in range(3):  # pooled connections first, then new ones that never open
            booking, took = timed(lambda: book(write, token, service, 10))
            assert_database_unavailable(booking)
            assert took < BOUND
            slots, took = timed(lambda: availability(read, service))
            assert_database_unavailable(slots)
            assert took < BOUND
        ready, took = timed(lambda: read.get("/ready"))
        assert ready.status_code == 503
        assert ready.json()["checks"]["event_store"].startswith("error")
        assert ready.json()["checks"]["read_db"].startswith("error")
        assert took < BOUND
        assert read.get("/health").status_code == 200

        pg_proxy.forward()
        wait_for(lambda: book(write, token, service, 11).status_code == 201)


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "PostgreSQL never came back"
        time.sleep(0.1)
