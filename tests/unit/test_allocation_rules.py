"""DayAllocation and allocate: the per-day consistency boundary against double booking."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

import pytest

from domain.allocation import DayAllocation, allocate
from domain.errors import SlotUnavailable
from domain.slots import ServiceShape, allocation_days

from .builders import service, utc

BUSINESS = UUID(int=1)
JUNE_7, JUNE_8 = date(2027, 6, 7), date(2027, 6, 8)


def days_for(
    shape: ServiceShape, start: datetime, opened: dict[date, DayAllocation]
) -> list[DayAllocation]:
    """The allocations a booking at `start` needs, opened on first use."""
    end = start + shape.duration + shape.buffer_after
    wanted = allocation_days(start - shape.buffer_before, end)
    return [opened.setdefault(day, DayAllocation(BUSINESS, day)) for day in wanted]


def book(
    opened: dict[date, DayAllocation],
    shape: ServiceShape,
    start: datetime,
    capacity: int = 1,
    booking_id: UUID | None = None,
) -> UUID:
    booking_id = booking_id or uuid4()
    allocate(days_for(shape, start, opened), capacity, shape, booking_id, start)
    return booking_id


def test_gives_each_business_day_one_allocation_id() -> None:
    assert DayAllocation.create_id(BUSINESS, JUNE_7) == DayAllocation.create_id(BUSINESS, JUNE_7)
    assert DayAllocation.create_id(BUSINESS, JUNE_7) != DayAllocation.create_id(BUSINESS, JUNE_8)
    assert DayAllocation.create_id(BUSINESS, JUNE_7) != DayAllocation.create_id(UUID(int=2), JUNE_7)


def test_opens_an_allocation_under_its_deterministic_id() -> None:
    assert DayAllocation(BUSINESS, JUNE_7).id == DayAllocation.create_id(BUSINESS, JUNE_7)


def test_holds_a_booking_with_its_buffers() -> None:
    opened: dict[date, DayAllocation] = {}
    colouring = service(60, before=10, after=15)
    booking = book(opened, colouring, utc(2027, 6, 7, 9))
    occupancy = opened[JUNE_7].held[booking]
    assert (occupancy.start, occupancy.end) == (utc(2027, 6, 7, 9), utc(2027, 6, 7, 10))
    assert (occupancy.occupied_start, occupancy.occupied_end) == (
        utc(2027, 6, 7, 8, 50),
        utc(2027, 6, 7, 10, 15),
    )


def test_holds_a_booking_across_utc_midnight_in_both_days() -> None:
    opened: dict[date, DayAllocation] = {}
    booking = book(opened, service(60), utc(2027, 6, 7, 23, 30))
    assert booking in opened[JUNE_7].held
    assert booking in opened[JUNE_8].held


def test_refuses_an_overlap_that_only_the_shared_day_can_see() -> None:
    opened: dict[date, DayAllocation] = {}
    book(opened, service(90), utc(2027, 6, 7, 23))
    with pytest.raises(SlotUnavailable):
        # 00:00-01:00 touches only June 8, which holds the late booking too.
        allocate([opened[JUNE_8]], 1, service(60), uuid4(), utc(2027, 6, 8, 0))


def test_refuses_a_second_booking_in_a_full_slot_and_holds_nothing() -> None:
    opened: dict[date, DayAllocation] = {}
    first = book(opened, service(60), utc(2027, 6, 7, 9))
    with pytest.raises(SlotUnavailable):
        book(opened, service(60), utc(2027, 6, 7, 9, 30))
    assert list(opened[JUNE_7].held) == [first]


def test_refuses_the_fourth_seat_of_a_three_seat_class() -> None:
    opened: dict[date, DayAllocation] = {}
    yoga = service(60, seats=3)
    for _ in range(3):
        book(opened, yoga, utc(2027, 6, 7, 18))
    with pytest.raises(SlotUnavailable):
        book(opened, yoga, utc(2027, 6, 7, 18))
    assert len(opened[JUNE_7].held) == 3


def test_serves_two_overlapping_services_at_capacity_two_and_refuses_a_third() -> None:
    opened: dict[date, DayAllocation] = {}
    book(opened, service(60), utc(2027, 6, 7, 9), capacity=2)
    book(opened, service(30), utc(2027, 6, 7, 9, 30), capacity=2)
    with pytest.raises(SlotUnavailable):
        book(opened, service(45), utc(2027, 6, 7, 9, 45), capacity=2)


def test_frees_the_slot_when_a_booking_is_released() -> None:
    opened: dict[date, DayAllocation] = {}
    first = book(opened, service(60), utc(2027, 6, 7, 9))
    opened[JUNE_7].release(first)
    second = book(opened, service(60), utc(2027, 6, 7, 9))
    assert list(opened[JUNE_7].held) == [second]


def test_records_nothing_when_releasing_a_booking_it_does_not_hold() -> None:
    allocation = DayAllocation(BUSINESS, JUNE_7)
    allocation.release(uuid4())
    assert [type(e).__name__ for e in allocation.collect_events()] == ["Opened"]


def test_records_holds_and_releases_as_events_an_auditor_can_replay() -> None:
    opened: dict[date, DayAllocation] = {}
    booking = book(opened, service(60), utc(2027, 6, 7, 9))
    opened[JUNE_7].release(booking)
    events = opened[JUNE_7].collect_events()
    assert [type(e).__name__ for e in events] == ["Opened", "Held", "Released"]
    replayed = None
    for recorded in events:
        replayed = recorded.mutate(replayed)
    assert replayed is not None
    assert replayed.held == {}


def test_lets_a_booking_move_onto_time_it_already_holds() -> None:
    opened: dict[date, DayAllocation] = {}
    haircut = service(60, interval=30)
    booking = book(opened, haircut, utc(2027, 6, 7, 9))
    book(opened, haircut, utc(2027, 6, 7, 9, 30), booking_id=booking)
    assert opened[JUNE_7].held[booking].start == utc(2027, 6, 7, 9, 30)
    assert len(opened[JUNE_7].held) == 1


def test_still_refuses_a_move_onto_someone_else() -> None:
    opened: dict[date, DayAllocation] = {}
    mine = book(opened, service(60), utc(2027, 6, 7, 9))
    book(opened, service(60), utc(2027, 6, 7, 11))
    with pytest.raises(SlotUnavailable):
        book(opened, service(60), utc(2027, 6, 7, 10, 30), booking_id=mine)
    assert opened[JUNE_7].held[mine].start == utc(2027, 6, 7, 9)
