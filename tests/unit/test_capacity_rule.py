"""Capacity counts occurrences: each one-to-one booking is one, a group session is one.

A business's capacity is how many appointments it can run in parallel. A
one-seat service books one-to-one appointments; a service with more seats runs
group sessions whose bookings at one start share one occurrence.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CreateService, UpdateService
from domain.errors import InvalidService, SlotUnavailable
from domain.occurrences import services_sharing_a_start
from domain.service import ServiceTerms
from domain.slots import Occupancy, available_slots, require_allocation, seats_left
from domain.values import Money

from .builders import (
    ALICE,
    BOB,
    OWNER,
    book,
    calendar,
    customer,
    held,
    hours,
    new_york,
    open_salon,
    service,
    utc,
)

MONDAY = date(2027, 6, 7)
WEEK_BEFORE = utc(2027, 5, 31)


def at(hour: int, minute: int = 0) -> datetime:
    return utc(2027, 6, 7, hour, minute)


def test_capacity_two_takes_two_one_to_one_bookings_at_one_start_and_refuses_a_third() -> None:
    haircut = service(60)
    taken: list[Occupancy] = []
    left = []
    for _ in range(2):
        left.append(seats_left(2, haircut, at(9), taken))
        require_allocation(2, haircut, at(9), taken)
        taken += held(haircut, at(9))
    assert left == [2, 1]
    assert seats_left(2, haircut, at(9), taken) == 0
    with pytest.raises(SlotUnavailable):
        require_allocation(2, haircut, at(9), taken)


def test_a_one_to_one_start_shows_how_many_more_appointments_can_run_in_parallel() -> None:
    cal = calendar("UTC", hours(("mon", "09:00", "11:00")), capacity=3)
    haircut = service(60)
    one_at_nine = held(haircut, at(9))
    slots = available_slots(cal, haircut, MONDAY, MONDAY, one_at_nine, WEEK_BEFORE)
    assert [(s.start, s.seats_left) for s in slots] == [(at(9), 2), (at(10), 3)]


def test_a_group_session_fills_its_seats_then_refuses_and_blocks_every_other_service() -> None:
    yoga, massage = service(60, seats=3), service(60)
    seats = {yoga.service_id: 3, massage.service_id: 1}
    taken: list[Occupancy] = []
    for left in (3, 2, 1):
        assert seats_left(1, yoga, at(9), taken, seats) == left
        require_allocation(1, yoga, at(9), taken, seats)
        taken += held(yoga, at(9))
    with pytest.raises(SlotUnavailable):
        require_allocation(1, yoga, at(9), taken, seats)
    for start in (at(8, 30), at(9), at(9, 30), at(9, 59)):
        assert seats_left(1, massage, start, taken, seats) == 0
    assert seats_left(1, massage, at(10), taken, seats) == 1


def test_a_group_session_takes_one_place_however_many_joined_it() -> None:
    yoga, massage = service(60, seats=3), service(60)
    seats = {yoga.service_id: 3}
    full_class = held(yoga, at(9), at(9), at(9))
    assert seats_left(2, massage, at(9), full_class, seats) == 1
    assert seats_left(4, massage, at(9), full_class, seats) == 3


def test_a_second_group_session_needs_its_own_place() -> None:
    yoga, pilates = service(60, seats=3), service(60, seats=5)
    seats = {yoga.service_id: 3, pilates.service_id: 5}
    taken = held(yoga, at(9), at(9))
    assert seats_left(2, pilates, at(9, 30), taken, seats) == 5
    assert seats_left(1, pilates, at(9, 30), taken, seats) == 0


def test_bookings_of_a_service_whose_seats_are_unknown_count_one_to_one() -> None:
    yoga, massage = service(60, seats=3), service(60)
    two_in_class = held(yoga, at(9), at(9))
    # Without yoga's seats the two could be two appointments: never overstate what is free.
    assert seats_left(2, massage, at(9), two_in_class) == 0
    assert seats_left(2, massage, at(9), two_in_class, {yoga.service_id: 3}) == 1


def test_names_only_services_with_several_bookings_at_one_start() -> None:
    yoga, massage = service(60, seats=3), service(60)
    taken = [*held(yoga, at(9), at(9)), *held(massage, at(9), at(10))]
    assert services_sharing_a_start(taken) == {yoga.service_id}
    one = held(yoga, at(11))
    assert services_sharing_a_start([*one, *one]) == set()  # one booking seen twice is one


def class_of(app: SlotWise, business_id: UUID, seats: int) -> UUID:
    terms = ServiceTerms("Yoga", 60, Money.of("10", "USD"), seats=seats)
    return app.create_service(CreateService(OWNER, business_id, terms)).id


def test_the_application_books_two_chairs_at_once_and_turns_the_third_customer_away(
    app: SlotWise,
) -> None:
    _, haircut = open_salon(app, OWNER, slug="two-chairs", capacity=2)
    book(app, ALICE, haircut, new_york(2, 9))
    book(app, BOB, haircut, new_york(2, 9))
    with pytest.raises(SlotUnavailable):
        book(app, customer("carol"), haircut, new_york(2, 9))


def test_the_application_looks_up_a_class_to_count_its_bookings_once(app: SlotWise) -> None:
    business_id, haircut = open_salon(app, OWNER, slug="studio", capacity=2)
    yoga = class_of(app, business_id, seats=3)
    book(app, ALICE, yoga, new_york(2, 9))
    book(app, BOB, yoga, new_york(2, 9))
    book(app, customer("carol"), haircut, new_york(2, 9))  # the class takes one place
    with pytest.raises(SlotUnavailable):
        book(app, customer("dave"), haircut, new_york(2, 9))
    book(app, customer("erin"), yoga, new_york(2, 9))  # its third seat


def test_a_service_cannot_switch_between_one_to_one_and_group_sessions(app: SlotWise) -> None:
    business_id, haircut = open_salon(app, OWNER)
    yoga = class_of(app, business_id, seats=3)
    for service_id, seats in ((haircut, 2), (yoga, 1)):
        with pytest.raises(InvalidService) as refused:
            app.update_service(UpdateService(OWNER, service_id, {"seats": seats}))
        assert refused.value.field == "seats"
    app.update_service(UpdateService(OWNER, yoga, {"seats": 8}))  # a bigger class is fine
