"""The waitlist under racing cancellations, on PostgreSQL with real concurrency.

Two write processes (two composed containers, each with its own aggregate
cache) and two waitlist process managers on one event store. Seats free up
while newcomers try to book the same start and both process managers sweep at
once. Whatever the interleaving: every freed seat is offered exactly once, in
line order; nobody books past the line; the start never holds more than its
capacity; an offer that runs out goes to the next in line, once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking, PlaceBooking
from commands.waitlist_messages import AcceptOffer, JoinWaitlist, LeaveWaitlist
from domain.allocation import DayAllocation
from domain.errors import ConcurrencyConflict, IllegalTransition, SlotUnavailable
from domain.waitlist import EntryStatus, WaitlistEntry
from infra.bootstrap import Container, bootstrap
from infra.waitlist.service import WaitlistWorker
from tests.conftest import FrozenClock, settings_for
from tests.unit.builders import OWNER, customer, new_york, open_salon

pytestmark = pytest.mark.postgres
CAPACITY, LINE, NEWCOMERS = 4, 7, 8
TEN = new_york(8, 10)  # Monday 2027-03-08, 10:00 in New York
DAY = date(2027, 3, 8)  # its UTC day


@pytest.fixture
def writers(
    tmp_path: Path, request: pytest.FixtureRequest, clock: FrozenClock
) -> Iterator[tuple[Container, Container]]:
    settings = settings_for("postgres", tmp_path, request)
    first, second = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    yield first, second
    first.close()
    second.close()


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once (a barrier releases them together); results or refusals."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except (SlotUnavailable, ConcurrencyConflict, IllegalTransition) as refused:
            results[n] = refused

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def sweeping(containers: tuple[Container, ...]) -> list[Callable[[], Any]]:
    """Both process managers, each stepping until nothing is left to do."""

    def steps(container: Container) -> Callable[[], Any]:
        worker = WaitlistWorker(container.waitlist, container.app)
        return lambda: [worker.step() for _ in range(6)]

    return [steps(c) for c in containers]


def settle(containers: tuple[Container, ...]) -> None:
    for container in containers:
        worker = WaitlistWorker(container.waitlist, container.app)
        while worker.step():
            pass


def offers_of(app: SlotWise, entry_id: UUID) -> int:
    return sum(1 for e in app.events.get(entry_id) if type(e).__name__ == "Offered")


def held_at_ten(app: SlotWise, business_id: UUID) -> set[UUID]:
    day = app.repository.get(DayAllocation.create_id(business_id, DAY))
    return {b for b, o in day.held.items() if o.start == TEN}


def test_each_freed_seat_is_offered_once_in_line_order_and_nobody_books_past_the_line(
    writers: tuple[Container, Container], clock: FrozenClock
) -> None:
    first, second = writers
    app = first.app
    business_id, service_id = open_salon(app, OWNER, capacity=CAPACITY)
    seated = [
        app.handle(PlaceBooking(customer(f"seat-{n}"), service_id, TEN)).id for n in range(CAPACITY)
    ]
    line = [
        app.handle(JoinWaitlist(customer(f"line-{n}"), service_id, TEN)).id for n in range(LINE)
    ]
    apps = (first.app, second.app)

    # Three seats free while eight newcomers try to book them and both managers sweep.
    cancels = [
        lambda b=b, n=n: apps[n % 2].handle(CancelBooking(OWNER, b))
        for n, b in enumerate(seated[:3])
    ]
    newcomers = [
        lambda n=n: apps[n % 2].handle(PlaceBooking(customer(f"new-{n}"), service_id, TEN))
        for n in range(NEWCOMERS)
    ]
    results = race([*cancels, *newcomers, *sweeping(writers)])
    booked = [r for r in results[3 : 3 + NEWCOMERS] if not isinstance(r, Exception)]
    assert booked == [], "a newcomer took a seat the line had first claim to"
    settle(writers)

    entries = [app.repository.get(e) for e in line]
    assert [e.status for e in entries] == [EntryStatus.OFFERED] * 3 + [EntryStatus.WAITING] * 4
    assert [offers_of(app, e) for e in line] == [1, 1, 1, 0, 0, 0, 0]
    assert held_at_ten(app, business_id) == {seated[3], *line[:3]}  # capacity: four, no more

    # The offers run out while the next ones in line accept and decline at once.
    clock.now += timedelta(minutes=15)
    results = race(sweeping(writers))
    settle(writers)
    entries = [app.repository.get(e) for e in line]
    statuses = [e.status for e in entries]
    assert statuses == [EntryStatus.EXPIRED] * 3 + [EntryStatus.OFFERED] * 3 + [EntryStatus.WAITING]
    assert [offers_of(app, e) for e in line] == [1] * 6 + [0]

    takers = [
        lambda: apps[0].handle(AcceptOffer(customer("line-3"), line[3])),
        lambda: apps[1].handle(AcceptOffer(customer("line-4"), line[4])),
        lambda: apps[0].handle(LeaveWaitlist(customer("line-5"), line[5])),
        *(
            lambda n=n: apps[n % 2].handle(PlaceBooking(customer(f"late-{n}"), service_id, TEN))
            for n in range(4)
        ),
        *sweeping(writers),
    ]
    results = race(takers)
    assert all(not isinstance(r, Exception) for r in results[:3]), results[:3]
    assert all(isinstance(r, SlotUnavailable) for r in results[3:7]), results[3:7]
    settle(writers)
    last: WaitlistEntry = app.repository.get(line[6])
    assert last.status is EntryStatus.OFFERED and offers_of(app, line[6]) == 1
    held = held_at_ten(app, business_id)
    assert len(held) == CAPACITY and line[6] in held  # two bookings from offers, one offer
    placed = Counter(
        type(e).__name__
        for b in held - {line[6]}
        for e in app.events.get(b)
        if type(e).__name__ in ("Placed", "Cancelled")
    )
    assert placed == Counter({"Placed": 3})  # seat-3 and the two accepted offers
