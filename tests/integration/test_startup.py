"""Several processes starting together on an empty PostgreSQL schema all come up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import JWT_SECRET, SMALL_POOLS


def test_four_processes_bootstrapping_at_once_on_an_empty_schema_all_start(
    postgres_dsn: str, postgres_schema: str
) -> None:
    url = f"{postgres_dsn}?schema={postgres_schema}&{SMALL_POOLS}"
    settings = Settings(event_store=url, read_db=url, jwt_secret=JWT_SECRET)
    barrier = Barrier(4)

    def start() -> Container:
        barrier.wait()
        return bootstrap(settings)

    with ThreadPoolExecutor(4) as pool:
        containers = list(pool.map(lambda _: start(), range(4)))
    try:
        assert all(c.reached(("bookings",)) == 0 for c in containers)
    finally:
        for container in containers:
            container.close()
