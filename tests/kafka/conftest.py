"""Fixtures for the Kafka tests: the production settings on fresh schemas, a workload."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from commands.messages import (
    CancelBooking,
    CreateService,
    PlaceBooking,
    RegisterBusiness,
    RescheduleBooking,
    SetHours,
)
from domain.actor import Actor, Role
from domain.service import ServiceTerms
from domain.values import Money
from infra.bootstrap import Container, bootstrap
from infra.kafka.processes import Stoppable
from infra.settings import Settings
from tests.conftest import JWT_SECRET, FrozenClock, drop_schema, new_schema
from tests.kafka_broker import Broker
from tests.production_stack import (
    forget_redis_keys,
    production_settings,
)

OWNER = Actor("owner-1", Role.OWNER)
CUSTOMERS = [Actor(f"customer-{n}", Role.CUSTOMER) for n in range(8)]
FIRST_MONDAY = datetime(2027, 3, 8, tzinfo=UTC)  # the clock fixture says 2027-03-01


@pytest.fixture
def settings(postgres_dsn: str, kafka_broker: Broker) -> Iterator[Settings]:
    """PostgreSQL event store and read models in schemas of their own; 4 partitions."""
    events, reads = new_schema(postgres_dsn), new_schema(postgres_dsn)
    made = production_settings(
        postgres_dsn, events, reads, kafka_broker.servers, JWT_SECRET, partitions=4
    )
    yield made
    drop_schema(postgres_dsn, events)
    drop_schema(postgres_dsn, reads)
    forget_redis_keys(made)


@pytest.fixture
def container(
    settings: Settings, clock: FrozenClock, adapters: dict[str, Any]
) -> Iterator[Container]:
    built = bootstrap(settings, clock=clock, **adapters)
    yield built
    built.close()


class Threads:
    """Runs relays and workers in threads, each with its own container; stops them all."""

    def __init__(self) -> None:
        self.running: list[tuple[Stoppable, Container, threading.Thread]] = []

    def start(self, process: Stoppable, container: Container) -> Stoppable:
        thread = threading.Thread(target=process.run, daemon=True)
        thread.start()
        self.running.append((process, container, thread))
        return process

    def stop(self, process: Stoppable) -> None:
        for entry in [e for e in self.running if e[0] is process]:
            entry[0].stop()
            entry[2].join(timeout=30)
            entry[1].close()
            self.running.remove(entry)

    def stop_all(self) -> None:
        for process, _, _ in list(self.running):
            self.stop(process)


@pytest.fixture
def threads() -> Iterator[Threads]:
    running = Threads()
    yield running
    running.stop_all()


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


class Workload:
    """Businesses, services and bookings placed, rescheduled and cancelled through the app."""

    def __init__(self, container: Container, businesses: int = 3) -> None:
        self.app = container.app
        self.services: list[Any] = []
        self.bookings: list[Any] = []
        self.step = 0
        for n in range(businesses):
            business = self.app.register_business(
                RegisterBusiness(OWNER, f"Salon {n}", f"salon-{n}", "UTC", 1)
            )
            week = [{"day": d, "start": "00:00", "end": "23:59"} for d in ("mon", "tue", "wed")]
            self.app.set_hours(SetHours(OWNER, business.id, week))
            terms = ServiceTerms("Cut", 30, Money.of(Decimal("25"), "EUR"))
            self.services.append(self.app.create_service(CreateService(OWNER, business.id, terms)))

    def slot(self, n: int) -> datetime:
        """Distinct half-hour slots over three days: no booking ever collides."""
        day, half_hour = divmod(n, 46)
        return FIRST_MONDAY + timedelta(weeks=day // 3, days=day % 3, minutes=30 * half_hour)

    def next(self) -> int:
        """One more command (mostly bookings, some reschedules and cancellations)."""
        self.step += 1
        n = self.step
        if n % 7 == 0 and self.bookings:
            booking = self.bookings.pop(0)
            cancel = CancelBooking(booking[1], booking[0], "changed plans")
            return self.app.cancel_booking(cancel).position
        if n % 5 == 0 and self.bookings:
            booking = self.bookings[-1]
            moved = RescheduleBooking(booking[1], booking[0], self.slot(5_000 + n))
            return self.app.handle(moved).position
        service = self.services[n % len(self.services)]
        customer = CUSTOMERS[n % len(CUSTOMERS)]
        done = self.app.place_booking(PlaceBooking(customer, service.id, self.slot(n)))
        self.bookings.append((done.id, customer))
        return done.position
