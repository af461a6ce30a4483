"""No resource is ever double booked: concurrent requests through two write processes (two
composed containers, each with its own aggregate cache) on one PostgreSQL event store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import AddResource, AddTimeOff, CreateService, PlaceBooking
from domain.booking import Booking
from domain.errors import BookingsAffected, ConcurrencyConflict, SlotUnavailable
from domain.resource_profile import ResourceProfile
from domain.service import ServiceTerms
from domain.values import Money
from infra.bootstrap import Container, bootstrap
from tests.conftest import FrozenClock, settings_for
from tests.unit.builders import OWNER, customer, new_york, open_salon

pytestmark = pytest.mark.postgres


@pytest.fixture
def writers(
    tmp_path: Path, request: pytest.FixtureRequest, clock: FrozenClock
) -> Iterator[tuple[Container, Container]]:
    settings = settings_for("postgres", tmp_path, request)
    first, second = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    yield first, second
    first.close()
    second.close()


def barbershop(app: SlotWise, barbers: int = 2) -> tuple[UUID, list[UUID]]:
    business_id, _ = open_salon(app, OWNER)
    ids = [
        app.handle(AddResource(OWNER, business_id, ResourceProfile(f"B{n}", "staff", "barber"))).id
        for n in range(barbers)
    ]
    terms = ServiceTerms("Fade", 60, Money.of("20", "USD"), requires={"category": "barber"})
    return app.handle(CreateService(OWNER, business_id, terms)).id, ids


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once (a barrier releases them together); results or exceptions."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except (SlotUnavailable, ConcurrencyConflict, BookingsAffected) as refused:
            return refused

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def placed(results: list[Any]) -> list[UUID]:
    return [r.id for r in results if not isinstance(r, Exception)]


def barbers_of(app: SlotWise, bookings: list[UUID]) -> list[str]:
    found: list[Booking] = [app.repository.get(b) for b in bookings]
    return [r["id"] for b in found for r in b.resources]


def test_48_requests_for_one_start_with_two_barbers_book_exactly_two(
    writers: tuple[Container, Container],
) -> None:
    apps = [c.app for c in writers]
    service_id, _ = barbershop(apps[0])
    start = new_york(2, 10)
    calls = [
        (lambda n=n: apps[n % 2].handle(PlaceBooking(customer(f"c{n}"), service_id, start)))
        for n in range(48)
    ]
    won = placed(race(calls))
    assert len(won) == 2
    assert len(set(barbers_of(apps[0], won))) == 2  # on different barbers


def test_a_named_barber_racing_any_requests_is_held_once(
    writers: tuple[Container, Container],
) -> None:
    apps = [c.app for c in writers]
    service_id, (joe, _) = barbershop(apps[0])
    start = new_york(3, 10)
    named = [
        (
            lambda n=n: apps[n % 2].handle(
                PlaceBooking(customer(f"n{n}"), service_id, start, resource_id=joe)
            )
        )
        for n in range(8)
    ]
    anyone = [
        (lambda n=n: apps[n % 2].handle(PlaceBooking(customer(f"a{n}"), service_id, start)))
        for n in range(16)
    ]
    won = placed(race(named + anyone))
    held = barbers_of(apps[0], won)
    assert len(won) == 2 and sorted(held) == sorted(set(held))  # two bookings, two barbers


def test_time_off_added_while_bookings_race_never_leaves_one_in_it(
    writers: tuple[Container, Container],
) -> None:
    apps = [c.app for c in writers]
    service_id, (joe,) = barbershop(apps[0], barbers=1)
    start = new_york(4, 10)
    for hour, app in zip((15, 16), apps, strict=True):  # both processes cache the business
        app.handle(PlaceBooking(customer(f"warm{hour}"), service_id, new_york(4, hour)))
    off = AddTimeOff(OWNER, joe, new_york(4, 9), new_york(4, 12), "dentist")
    calls: list[Callable[[], Any]] = [lambda: apps[0].handle(off)]
    calls += [
        (lambda n=n: apps[n % 2].handle(PlaceBooking(customer(f"t{n}"), service_id, start)))
        for n in range(12)
    ]
    results = race(calls)
    time_off, bookings = results[0], placed(results[1:])
    # Either the time off came first and every booking was refused, or one booking came
    # first and the time off was refused listing it: never both written.
    if isinstance(time_off, BookingsAffected):
        assert len(bookings) == 1
        assert [b["id"] for b in time_off.affected] == [str(bookings[0])]
    else:
        assert not isinstance(time_off, Exception)
        assert bookings == []
