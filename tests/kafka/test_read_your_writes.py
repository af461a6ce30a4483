"""Read-your-writes through Kafka: several partitions, two workers, tokens honoured."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.consumers.runtime import Checkpoint, lock_checkpoint, save_checkpoint
from infra.kafka.processes import build_relay, build_worker
from infra.kafka.progress import KafkaProgress
from infra.kafka.relay_tables import RELAY, record_published
from infra.kafka.worker import ProjectorWorker
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.kafka.conftest import Threads, Workload
from write_api.app import create_app as create_write_app

Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture
def workers(container: Container, settings: Settings, threads: Threads) -> list[ProjectorWorker]:
    """The relay and two projector workers sharing four partitions per topic."""
    relay_container = bootstrap(settings)
    threads.start(build_relay(relay_container), relay_container)
    started = []
    for _ in range(2):
        worker_container = bootstrap(settings)
        started.append(build_worker(worker_container))
        threads.start(started[-1], worker_container)
    return started


@pytest.fixture
def clients(container: Container) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_write_app(container), raise_server_exceptions=False) as write,
        TestClient(create_read_app(container), raise_server_exceptions=False) as read,
    ):
        yield write, read


def test_every_write_is_seen_by_the_read_that_carries_its_token(
    container: Container,
    workers: list[ProjectorWorker],
    clients: tuple[TestClient, TestClient],
    token: Headers,
) -> None:
    write, read = clients
    load = Workload(container, businesses=4)  # services spread over the partitions
    for worker in workers:
        assert worker.assigned.wait(30)
    for n in range(40):
        service = load.services[n % len(load.services)]
        customer = f"customer-{n}"
        body = {"service_id": str(service.id), "start": load.slot(n).isoformat()}
        placed = write.post("/v1/bookings", json=body, headers=token(customer, "customer"))
        assert placed.status_code == 201, placed.text
        consistency = {"X-Consistency-Token": placed.headers["X-Consistency-Token"]}

        seen = read.get(
            f"/v1/bookings/{placed.json()['id']}",
            headers={**token(customer, "customer"), **consistency},
        )
        assert seen.status_code == 200, seen.text
        day = load.slot(n).date().isoformat()
        slots = read.get(
            f"/v1/services/{service.id}/availability",
            params={"from": day, "to": day},
            headers=consistency,
        ).json()["slots"]
        taken = load.slot(n)
        assert all(datetime.fromisoformat(s["start"]) != taken for s in slots)

    owned = [w.consumer.assignment() for w in workers if w.consumer is not None]
    assert len(owned) == 2 and all(owned), "both workers hold partitions"
    assert sum(len(a) for a in owned) == 16  # 4 topics x 4 partitions, split between them


def test_the_oracle_needs_every_partition_caught_up_or_past_the_token(
    container: Container,
) -> None:
    progress = container.kafka_progress
    assert isinstance(progress, KafkaProgress)
    tables = progress.event_store
    with tables.begin() as conn:  # the relay saved position 10 after publishing:
        lock_checkpoint(conn, RELAY, "log", 0)
        save_checkpoint(conn, RELAY, "log", 0, Checkpoint(10, 10))
        record_published(
            conn,
            first={("t.booking", 0): (3, 0), ("t.booking", 1): (4, 0), ("t.service", 0): (2, 0)},
            latest={("t.booking", 0): (9, 2), ("t.booking", 1): (10, 1), ("t.service", 0): (2, 0)},
        )
        record_published(conn, first={("t.booking", 0): (7, 1)}, latest={})
    name = "bookings"
    reached = lambda: progress.reached((name,))  # noqa: E731

    # It consumed nothing yet, but nothing at position 1 was published anywhere: every
    # partition's first batch begins after it.
    assert reached() == 1
    with container.runtime.engine.begin() as conn:
        for source, part, offset, position in [
            ("t.service", 0, 0, 2),  # all of that partition
            ("t.booking", 1, 1, 10),  # all of that one
            ("t.booking", 0, 0, 3),  # the first of three messages; a batch began at offset 1
        ]:
            lock_checkpoint(conn, name, source, part)
            save_checkpoint(conn, name, source, part, Checkpoint(offset, position))
    assert reached() == 6  # booking/0 holds everything before position 7, the next batch
    with container.runtime.engine.begin() as conn:
        save_checkpoint(conn, name, "t.booking", 0, Checkpoint(1, 7))
    assert reached() == 7  # offset 2 (position 9) is still to come there
    with container.runtime.engine.begin() as conn:
        save_checkpoint(conn, name, "t.booking", 0, Checkpoint(2, 9))
    assert reached() == 10  # every partition as far as the relay published
    assert progress.reached(("availability",)) == 1  # another consumer: nothing consumed yet
    assert progress.lag(12) == {
        "relay": 2,
        "business_directory": 6,
        "service_catalogue": 6,
        "availability": 6,
        "bookings": 0,
        "business_stats": 6,
        "resources": 6,
        "waitlist": 6,
    }
