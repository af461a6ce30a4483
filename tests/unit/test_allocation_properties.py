"""Random place / cancel / reschedule sequences never break capacity or seats.

The invariants are checked by a brute-force counter written here, minute by
minute, never by the slot engine under test. It also decides independently
whether each placement should fit, so the engine may neither overbook nor
refuse a booking that fits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.app import SlotWise
from commands.messages import (
    CancelBooking,
    CreateService,
    PlaceBooking,
    RescheduleBooking,
    SetHours,
)
from domain.actor import Actor
from domain.allocation import DayAllocation, allocate
from domain.errors import SlotUnavailable
from domain.service import ServiceTerms
from domain.slots import Occupancy, ServiceShape
from domain.values import Money
from tests.conftest import examples

from .builders import (
    IN_MEMORY,
    Clock,
    booking,
    customer,
    hours,
    open_salon,
    owner,
    service,
    utc,
)

MINUTE = timedelta(minutes=1)
GRID = timedelta(minutes=15)
SHAPES = [service(30), service(60, after=15, seats=3), service(90, before=15, seats=2)]
SEATS = {s.service_id: s.seats for s in SHAPES}
FIRST_START = utc(2027, 6, 1, 20)  # the grid runs across UTC midnight
STEPS = 33  # 20:00Z to 04:00Z

Op = tuple[str, int, int]
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.integers(0, len(SHAPES) - 1), st.integers(0, STEPS - 1)),
        st.tuples(st.just("cancel"), st.integers(0, 40), st.just(0)),
        st.tuples(st.just("reschedule"), st.integers(0, 40), st.integers(0, STEPS - 1)),
    ),
    max_size=25,
)


def brute_force_breaches(
    occupancies: list[Occupancy], capacity: int, seats: dict[UUID, int] = SEATS
) -> list[str]:
    """Every minute with more occurrences than capacity, every occurrence over its seats.

    A one-seat service's bookings are one-to-one appointments, each its own
    occurrence; a service with more seats runs group sessions, whose bookings
    at one start share one occurrence.
    """
    running: defaultdict[datetime, set[object]] = defaultdict(set)
    for o in occupancies:
        occurrence = (o.service_id, o.start) if seats[o.service_id] > 1 else o.booking_id
        minute = o.occupied_start
        while minute < o.occupied_end:
            running[minute].add(occurrence)
            minute += MINUTE
    breaches = [f"{len(o)} occurrences at {t}" for t, o in running.items() if len(o) > capacity]
    booked = Counter((o.service_id, o.start) for o in occupancies if seats[o.service_id] > 1)
    breaches += [f"{n} bookings in {occ}" for occ, n in booked.items() if n > seats[occ[0]]]
    return breaches


def would_fit(
    occupancies: list[Occupancy],
    capacity: int,
    shape: ServiceShape,
    start: datetime,
    seats: dict[UUID, int] = SEATS,
) -> bool:
    end = start + shape.duration
    candidate = Occupancy(
        uuid4(), shape.service_id, start, end, start - shape.buffer_before, end + shape.buffer_after
    )
    return not brute_force_breaches([*occupancies, candidate], capacity, seats)


def utc_days(o: Occupancy) -> set[date]:
    """The UTC days holding `o`, found by walking its minutes."""
    days: set[date] = set()
    minute = o.occupied_start
    while minute < o.occupied_end:
        days.add(minute.date())
        minute += MINUTE
    return days


class Ledger:
    """DayAllocation aggregates of one business, opened on first use."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.days: dict[date, DayAllocation] = {}

    def touching(self, shape: ServiceShape, start: datetime) -> list[DayAllocation]:
        end = start + shape.duration + shape.buffer_after
        probe = Occupancy(uuid4(), shape.service_id, start, end, start - shape.buffer_before, end)
        return [
            self.days.setdefault(d, DayAllocation(UUID(int=7), d)) for d in sorted(utc_days(probe))
        ]

    def holdings(self) -> dict[UUID, Occupancy]:
        return {b: o for a in self.days.values() for b, o in a.held.items()}

    def place(self, booking_id: UUID, shape: ServiceShape, start: datetime) -> bool:
        try:
            allocate(self.touching(shape, start), self.capacity, shape, booking_id, start, SEATS)
        except SlotUnavailable:
            return False
        return True

    def release(self, booking_id: UUID, keep: Collection[date] = ()) -> None:
        for day, allocation in self.days.items():
            if day not in keep:
                allocation.release(booking_id)


@settings(max_examples=examples(150), deadline=None, database=None)
@given(capacity=st.integers(1, 3), ops=OPS)
def test_day_allocations_never_overbook_and_never_refuse_a_fit(
    capacity: int, ops: list[Op]
) -> None:
    ledger = Ledger(capacity)
    expected: dict[UUID, tuple[ServiceShape, datetime]] = {}
    for kind, index, step in ops:
        start = FIRST_START + step * GRID
        if kind == "place":
            shape, booking_id = SHAPES[index], uuid4()
            fits = would_fit(list(ledger.holdings().values()), capacity, shape, start)
            assert ledger.place(booking_id, shape, start) == fits
            if fits:
                expected[booking_id] = (shape, start)
        elif expected:
            booking_id = list(expected)[index % len(expected)]
            shape = expected[booking_id][0]
            if kind == "cancel":
                ledger.release(booking_id)
                del expected[booking_id]
            else:
                others = [o for b, o in ledger.holdings().items() if b != booking_id]
                fits = would_fit(others, capacity, shape, start)
                assert ledger.place(booking_id, shape, start) == fits
                if fits:  # drop the old hold from days the new time does not touch
                    ledger.release(booking_id, keep={a.day for a in ledger.touching(shape, start)})
                    expected[booking_id] = (shape, start)
        holdings = ledger.holdings()
        assert {b: o.start for b, o in holdings.items()} == {b: s for b, (_, s) in expected.items()}
        for allocation in ledger.days.values():
            for occupancy in allocation.held.values():
                assert allocation.day in utc_days(occupancy)
        for booking_id, occupancy in holdings.items():
            holders = {d for d, a in ledger.days.items() if booking_id in a.held}
            assert holders == utc_days(occupancy)
        assert brute_force_breaches(list(holdings.values()), capacity) == []


MONDAY_EVENING = utc(2027, 5, 31, 12, 30)  # 18:00 in Kolkata; open until 06:00 Tuesday
OPEN_MINUTES = 12 * 60
APP_TERMS = [  # (minutes, buffer before, buffer after, seats), each on a 30-minute grid
    (60, 0, 0, 2),
    (30, 0, 15, 1),
    (90, 15, 0, 1),
]


def open_night_club(app: SlotWise, capacity: int) -> tuple[UUID, list[ServiceShape]]:
    """A Kolkata business open overnight, across local and UTC midnight, with three services."""
    boss = owner()
    business_id, _ = open_salon(app, boss, timezone="Asia/Kolkata", capacity=capacity)
    app.set_hours(
        SetHours(boss, business_id, hours(("mon", "18:00", "24:00"), ("tue", "00:00", "06:00")))
    )
    shapes: list[ServiceShape] = []
    for minutes, before, after, seats in APP_TERMS:
        terms = ServiceTerms(
            f"{minutes} minutes",
            minutes,
            Money.of("10", "INR"),
            seats=seats,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            slot_interval_minutes=30,
        )
        service_id = app.create_service(CreateService(boss, business_id, terms)).id
        shapes.append(app.repository.get(service_id).shape())
    return business_id, shapes


def start_for(shape: ServiceShape, step: int) -> datetime:
    """A start on the grid that ends by closing time."""
    last = (OPEN_MINUTES - int(shape.duration.total_seconds()) // 60) // 30
    return MONDAY_EVENING + (step % (last + 1)) * timedelta(minutes=30)


def app_holdings(app: SlotWise, business_id: UUID) -> dict[UUID, Occupancy]:
    found: dict[UUID, Occupancy] = {}
    for day in (date(2027, 5, 31), date(2027, 6, 1)):
        allocation = app.load_or_none(DayAllocation, DayAllocation.create_id(business_id, day))
        found.update(allocation.held if allocation else {})
    return found


@settings(max_examples=examples(80), deadline=None, database=None)
@given(capacity=st.integers(1, 3), ops=OPS)
def test_the_application_never_overbooks_under_place_cancel_and_reschedule(
    capacity: int, ops: list[Op]
) -> None:
    app = SlotWise(env=dict(IN_MEMORY), clock=Clock(utc(2027, 5, 1)))
    business_id, shapes = open_night_club(app, capacity)
    seats = {s.service_id: s.seats for s in shapes}
    live: dict[UUID, tuple[Actor, ServiceShape]] = {}
    for kind, index, step in ops:
        held = app_holdings(app, business_id)
        if kind == "place":
            who, shape = customer(f"c{step % 4}"), shapes[index]
            fits = would_fit(list(held.values()), capacity, shape, start_for(shape, step), seats)
            try:
                booking_id = app.place_booking(
                    PlaceBooking(who, shape.service_id, start_for(shape, step))
                ).id
            except SlotUnavailable:
                assert not fits
            else:
                assert fits
                live[booking_id] = (who, shape)
        elif live:
            booking_id = list(live)[index % len(live)]
            who, shape = live[booking_id]
            if kind == "cancel":
                app.cancel_booking(CancelBooking(who, booking_id))
                del live[booking_id]
            else:
                others = [o for b, o in held.items() if b != booking_id]
                fits = would_fit(others, capacity, shape, start_for(shape, step), seats)
                moved = RescheduleBooking(who, booking_id, start_for(shape, step))
                try:
                    app.reschedule_booking(moved)
                except SlotUnavailable:
                    assert not fits
                else:
                    assert fits
        held = app_holdings(app, business_id)
        assert {b: o.start for b, o in held.items()} == {b: booking(app, b).start for b in live}
        assert brute_force_breaches(list(held.values()), capacity, seats) == []
