"""Out of database connections is a 503 with Retry-After, never a 500, on the real PostgreSQL.

Each test makes a pool of one connection, holds that connection the way a burst
of slow requests would, and asks the API for more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.readdb import open_read_database
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import PROBLEM
from write_api.app import create_app as create_write_app

pytestmark = pytest.mark.postgres
BUSINESS = {"name": "Salon", "slug": "busy-salon", "timezone": "UTC"}
TINY_POOL = "pool_size=1&max_overflow=0&pool_timeout=0.2&connect_timeout=1"


@pytest.fixture
def tiny(postgres_dsn: str, postgres_schema: str, tmp_path: Path) -> Iterator[Container]:
    """Every pool of this container holds one connection and waits briefly for it."""
    url = f"{postgres_dsn}?schema={postgres_schema}&{TINY_POOL}"
    settings = Settings(data_dir=tmp_path, event_store=url, read_db=url, jwt_secret=JWT_SECRET)
    container = bootstrap(settings)
    yield container
    container.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["Retry-After"] == "1"
    assert response.json()["type"].endswith("/database-unavailable")


def test_a_read_waiting_too_long_for_a_pooled_connection_is_a_503(tiny: Container) -> None:
    with TestClient(create_read_app(tiny), raise_server_exceptions=False) as client:
        held = tiny.read_db.reader.connect()
        try:
            assert_unavailable(client.get("/v1/businesses"))
        finally:
            held.close()
        assert client.get("/v1/businesses").status_code == 200


def test_a_command_with_its_idempotency_store_out_of_connections_is_a_503(
    tiny: Container, token: Callable[[str, str], dict[str, str]]
) -> None:
    headers = {**token("owner-1", "owner"), "Idempotency-Key": "k-1"}
    with TestClient(create_write_app(tiny), raise_server_exceptions=False) as client:
        held = tiny.idempotency.engine.connect()
        try:
            assert_unavailable(client.post("/v1/businesses", json=BUSINESS, headers=headers))
        finally:
            held.close()
        assert client.post("/v1/businesses", json=BUSINESS, headers=headers).status_code == 201


def test_a_command_with_the_event_store_out_of_connections_is_a_503_and_appends_nothing(
    tiny: Container, token: Callable[[str, str], dict[str, str]]
) -> None:
    # The event store's recorder retries ten times, a second each: this test takes ~12 s.
    pool = tiny.app.recorder.datastore.pool  # type: ignore[attr-defined]
    with TestClient(create_write_app(tiny), raise_server_exceptions=False) as client:
        held = pool.getconn()
        try:
            answer = client.post("/v1/businesses", json=BUSINESS, headers=token("o", "owner"))
        finally:
            pool.putconn(held)
        assert_unavailable(answer)
        assert tiny.app.recorder.max_notification_id() is None
        assert client.post("/v1/businesses", json=BUSINESS, headers=token("o", "owner")).is_success


@pytest.fixture
def no_connections_role(postgres_dsn: str) -> Iterator[str]:
    """A role PostgreSQL lets hold no connection at all: 'too many connections for role'."""
    role = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    yield role
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP ROLE "{role}"')


def test_a_read_refused_with_too_many_connections_is_a_503(
    tiny: Container, postgres_dsn: str, no_connections_role: str
) -> None:
    server = urlsplit(postgres_dsn)
    netloc = f"{no_connections_role}@{server.hostname}:{server.port or 5432}"
    refused = server._replace(netloc=netloc).geturl()
    tiny.read_db.dispose()
    tiny.built_read_db = open_read_database(refused)
    with TestClient(create_read_app(tiny), raise_server_exceptions=False) as client:
        assert_unavailable(client.get("/v1/businesses"))
