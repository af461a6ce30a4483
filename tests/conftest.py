"""Shared fixtures: real SQLite files and a real PostgreSQL schema per test.

PostgreSQL is at SLOTWISE_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test).
If it cannot be reached the tests that need it fail: they are never skipped.

Markers (README, "Tests"): a test is marked by what it needs, here, from its fixtures and
parameters (the `backend` it runs on, the PostgreSQL or Kafka fixtures it takes), or by a
`pytestmark` in its module; `make test-fast` leaves every marked test out.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from domain.actor import Role
from infra.auth import issue_token
from infra.bootstrap import Container, bootstrap
from infra.read_cache import ReadCache
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.kafka_broker import Broker
from write_api.app import create_app as create_write_app

POSTGRES = os.environ.get("SLOTWISE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"
SMALL_POOLS = "pool_size=2&max_overflow=8"
# Every PostgreSQL connection of the tests (and of the processes they start, which inherit
# the environment) commits without waiting for its WAL to reach the disk: about 6 ms less per
# commit on this machine. What the tests kill is SlotWise's processes, never the database
# server, and an asynchronous commit is lost only when the server itself crashes, so no test
# can tell; the benchmarks and production keep PostgreSQL's default. SLOTWISE_TEST_PGOPTIONS
# overrides it ("" keeps the default).
os.environ["PGOPTIONS"] = os.environ.get("SLOTWISE_TEST_PGOPTIONS", "-c synchronous_commit=off")

# CI runs every property test in full; `make test-fast` loads "dev" (fewer examples).
hypothesis_settings.register_profile("ci", deadline=None)
hypothesis_settings.register_profile("dev", max_examples=20, deadline=None)
hypothesis_settings.load_profile(os.environ.get("SLOTWISE_HYPOTHESIS_PROFILE", "ci"))


def examples(full: int) -> int:
    """A property test's example count: `full` in CI, a fifth under the "dev" profile."""
    return max(10, full * hypothesis_settings.default.max_examples // 100)


# What a test needs, by the fixtures it takes: the marks `make test-fast` deselects.
MARKS_BY_FIXTURE = {
    "postgres_dsn": ("postgres",),
    "postgres_schema": ("postgres",),
    "kafka_broker": ("kafka",),
    "warm_stacks": ("kafka", "postgres", "redis"),
    "fake_stripe": ("subprocess",),  # localstripe runs as a server process
}
# ... and by the stack or store it is parametrised with.
MARKS_BY_PARAMETER = {
    "postgres": ("postgres",),
    "kafka": ("kafka", "postgres", "redis"),  # the production stack: all three servers
    "redis": ("redis",),
}


# ... and by where it lives: tests/kafka runs the production stack's parts (or its Redis).
MARKS_BY_FOLDER = {"kafka": ("kafka", "postgres", "redis")}
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with what it needs (see the MARKS_BY_* tables above)."""
    for item in items:
        needs = {m for f in getattr(item, "fixturenames", ()) for m in MARKS_BY_FIXTURE.get(f, ())}
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        needs.update(MARKS_BY_FOLDER.get(folder, ()))
        callspec = getattr(item, "callspec", None)
        for value in callspec.params.values() if callspec is not None else ():
            if isinstance(value, str):
                needs.update(MARKS_BY_PARAMETER.get(value, ()))
        for name in sorted(needs - {m.name for m in item.iter_markers()}):
            item.add_marker(name)
        if "kafka" in needs:
            # One xdist worker runs every Kafka test: a production stack holds dozens of
            # PostgreSQL connections (relay, workers, the next stack warming up), and two
            # workers' stacks at once would crowd the machine's 100.
            item.add_marker(pytest.mark.xdist_group("kafka"))
        elif folder == "browser":
            # Playwright's sync API keeps an event loop running in the worker's main thread
            # while its driver is open: the browser tests run together, on one worker, and
            # the driver closes after the last of them (package scope), before any other test.
            item.add_marker(pytest.mark.xdist_group("browser"))


class FrozenClock:
    """A clock tests can move; the app reads it for notice, advance and no-show rules."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


CLOCK_START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(CLOCK_START)


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    try:
        with psycopg.connect(POSTGRES, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.fail(f"PostgreSQL is required at {POSTGRES} and could not be reached: {error}")
    return POSTGRES


def new_schema(dsn: str) -> str:
    """A new, empty schema's name."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_schema(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@contextmanager
def fresh_schema(dsn: str) -> Iterator[str]:
    """A new schema's name, the schema dropped afterwards."""
    name = new_schema(dsn)
    try:
        yield name
    finally:
        drop_schema(dsn, name)


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """A fresh schema, dropped afterwards; the URL to use it is `f'{dsn}?schema={name}'`."""
    with fresh_schema(postgres_dsn) as name:
        yield name


def settings_for(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=tmp_path / "data", jwt_secret=JWT_SECRET)
    schema = request.getfixturevalue("postgres_schema")
    dsn = request.getfixturevalue("postgres_dsn")
    # Small pools: PostgreSQL's 100 connections are shared by everything on this machine.
    url = f"{dsn}?schema={schema}&{SMALL_POOLS}"
    return Settings(event_store=url, read_db=url, jwt_secret=JWT_SECRET)


def as_marked(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """`settings` with the fields a `@pytest.mark.settings(field=value)` on the test changes."""
    marker = request.node.get_closest_marker("settings")
    return settings.model_copy(update=marker.kwargs) if marker is not None else settings


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return as_marked(settings_for(backend, tmp_path, request), request)


@pytest.fixture
def adapters() -> dict[str, Any]:
    """Adapters handed to the composition root instead of those it would build (keywords of
    infra.bootstrap.bootstrap, e.g. `cache`); a test module overrides this fixture."""
    return {}


@pytest.fixture
def container(
    settings: Settings, clock: FrozenClock, adapters: dict[str, Any]
) -> Iterator[Container]:
    built = bootstrap(settings, clock=clock, **adapters)
    yield built
    built.close()


def auth_headers(sub: str, role: str) -> dict[str, str]:
    """Authorization headers for a subject and role."""
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, sub, Role(role))}"}


@pytest.fixture
def token() -> Callable[[str, str], dict[str, str]]:
    """Authorization headers for a subject and role."""
    return auth_headers


@pytest.fixture
def write_client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_write_app(container), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def read_client(container: Container) -> Iterator[TestClient]:
    container.start_embedded_delivery()  # as `slotwise dev` composes it beside the APIs
    with TestClient(create_read_app(container), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One memory-only Kafka-protocol broker for the session (tests use their own topics)."""
    broker = Broker(tmp_path_factory.mktemp("kafka") / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


class CountingCache:
    """A stack's own read cache (memory or Redis), counting the answers it gave."""

    def __init__(self, inner: ReadCache) -> None:
        self.inner, self.hits = inner, 0

    def get(self, key: str) -> bytes | None:
        found = self.inner.get(key)
        self.hits += found is not None
        return found

    def put(self, key: str, value: bytes) -> None:
        self.inner.put(key, value)

    def close(self) -> None:
        self.inner.close()
