"""Booking command handlers on the in-memory store: placing, moving, cancelling, advancing."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from commands import messages, payment_messages
from commands.app import SlotWise
from commands.base import HANDLERS
from commands.messages import (
    CancelBooking,
    CheckInBooking,
    CompleteBooking,
    ConfirmBooking,
    MarkNoShow,
    PlaceBooking,
    RescheduleBooking,
    SetPolicy,
    UpdateService,
)
from domain.allocation import DayAllocation
from domain.booking import BookingStatus
from domain.errors import (
    CancellationDeadlinePassed,
    IllegalTransition,
    InvalidInput,
    RoleNotAllowed,
    SlotUnavailable,
    StartNotOffered,
)
from domain.values import BookingPolicy
from tests.sealing import with_keys

from .builders import (
    ALICE,
    BOB,
    IN_MEMORY,
    OWNER,
    Clock,
    book,
    booking,
    customer,
    held_on,
    new_york,
    open_salon,
    utc,
)

TUESDAY = date(2027, 3, 2)


def test_confirms_a_customer_booking_and_snapshots_the_service(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    app.update_service(
        UpdateService(
            OWNER, service_id, {"name": "Deluxe cut", "price": {"amount": "90", "currency": "USD"}}
        )
    )
    placed = booking(app, booking_id)
    assert placed.status is BookingStatus.CONFIRMED
    assert (placed.customer_id, placed.start) == ("alice", utc(2027, 3, 2, 14))
    assert (placed.service_name, placed.price_amount, placed.currency) == (
        "Haircut",
        Decimal("30.00"),
        "USD",
    )
    assert booking_id in held_on(app, business_id, TUESDAY)


def test_leaves_a_booking_pending_when_the_business_confirms_by_hand(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    app.set_policy(SetPolicy(OWNER, business_id, BookingPolicy(requires_confirmation=True)))
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    assert booking(app, booking_id).status is BookingStatus.PENDING
    assert booking_id in held_on(app, business_id, TUESDAY)
    with pytest.raises(RoleNotAllowed):
        app.handle(ConfirmBooking(ALICE, booking_id))
    app.handle(ConfirmBooking(OWNER, booking_id))
    assert booking(app, booking_id).status is BookingStatus.CONFIRMED


def test_never_double_books_a_slot(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    _, service_id = salon
    book(app, ALICE, service_id, new_york(2, 9))
    with pytest.raises(SlotUnavailable) as refused:
        book(app, BOB, service_id, new_york(2, 9))
    assert refused.value.field == "start"
    book(app, BOB, service_id, new_york(2, 10))


def test_seats_three_customers_in_a_class_and_turns_the_fourth_away(app: SlotWise) -> None:
    _, class_id = open_salon(app, OWNER, slug="yoga", seats=3)
    for name in ("a", "b", "c"):
        book(app, customer(name), class_id, new_york(2, 9))
    with pytest.raises(SlotUnavailable):
        book(app, customer("d"), class_id, new_york(2, 9))


def test_refuses_a_naive_start_naming_the_field(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    with pytest.raises(InvalidInput, match="UTC offset") as refused:
        book(app, ALICE, salon[1], datetime(2027, 3, 2, 9, 0))
    assert refused.value.field == "start"


def test_refuses_a_naive_new_start_when_rescheduling(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    with pytest.raises(InvalidInput) as refused:
        app.reschedule_booking(RescheduleBooking(ALICE, booking_id, datetime(2027, 3, 2, 11)))
    assert refused.value.field == "start"
    assert booking(app, booking_id).start == new_york(2, 9)


def test_refuses_a_start_outside_opening_hours(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    with pytest.raises(StartNotOffered) as refused:
        book(app, ALICE, salon[1], new_york(2, 8))
    assert refused.value.field == "start"


def test_frees_the_slot_when_a_customer_cancels(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    business_id, service_id = salon
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    app.cancel_booking(CancelBooking(ALICE, booking_id, "flu"))
    assert held_on(app, business_id, TUESDAY) == {}
    book(app, BOB, service_id, new_york(2, 9))
    with pytest.raises(IllegalTransition, match="cannot cancel a booking that is cancelled"):
        app.cancel_booking(CancelBooking(ALICE, booking_id))


def test_binds_customers_not_staff_to_the_cancellation_deadline(
    app: SlotWise, salon: tuple[UUID, UUID], clock: Clock
) -> None:
    business_id, service_id = salon
    app.set_policy(SetPolicy(OWNER, business_id, BookingPolicy(cancellation_deadline_hours=24)))
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    clock.now = new_york(2, 9) - timedelta(hours=2)
    with pytest.raises(CancellationDeadlinePassed):
        app.cancel_booking(CancelBooking(ALICE, booking_id))
    with pytest.raises(CancellationDeadlinePassed):
        app.reschedule_booking(RescheduleBooking(ALICE, booking_id, new_york(2, 11)))
    assert booking_id in held_on(app, business_id, TUESDAY)
    app.cancel_booking(CancelBooking(OWNER, booking_id, "stylist ill"))
    assert held_on(app, business_id, TUESDAY) == {}


def test_moves_the_allocation_when_a_booking_is_rescheduled(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    app.reschedule_booking(RescheduleBooking(ALICE, booking_id, new_york(3, 15)))
    assert held_on(app, business_id, TUESDAY) == {}
    assert held_on(app, business_id, date(2027, 3, 3))[booking_id].start == new_york(3, 15)
    book(app, BOB, service_id, new_york(2, 9))
    with pytest.raises(SlotUnavailable):
        book(app, BOB, service_id, new_york(3, 15))


def test_lets_a_booking_move_half_over_its_own_time(app: SlotWise) -> None:
    business_id, service_id = open_salon(app, OWNER, duration=60)
    app.update_service(UpdateService(OWNER, service_id, {"slot_interval_minutes": 30}))
    booking_id = book(app, ALICE, service_id, new_york(2, 9))
    app.reschedule_booking(RescheduleBooking(ALICE, booking_id, new_york(2, 9, 30)))
    assert [o.start for o in held_on(app, business_id, TUESDAY).values()] == [new_york(2, 9, 30)]


def test_keeps_the_old_slot_when_the_new_one_is_taken(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    business_id, service_id = salon
    alices = book(app, ALICE, service_id, new_york(2, 9))
    bobs = book(app, BOB, service_id, new_york(2, 10))
    with pytest.raises(SlotUnavailable):
        app.reschedule_booking(RescheduleBooking(ALICE, alices, new_york(2, 10)))
    assert booking(app, alices).start == new_york(2, 9)
    assert set(held_on(app, business_id, TUESDAY)) == {alices, bobs}


def test_refuses_rescheduling_a_cancelled_booking(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    app.cancel_booking(CancelBooking(ALICE, booking_id))
    with pytest.raises(IllegalTransition, match="reschedule"):
        app.reschedule_booking(RescheduleBooking(ALICE, booking_id, new_york(2, 11)))
    assert held_on(app, salon[0], TUESDAY) == {}


def test_walks_a_visit_through_check_in_and_completion(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    for command in (CheckInBooking, CompleteBooking):
        app.handle(command(OWNER, booking_id))
    assert booking(app, booking_id).status is BookingStatus.COMPLETED


def test_marks_a_no_show_only_once_the_appointment_has_started(
    app: SlotWise, salon: tuple[UUID, UUID], clock: Clock
) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    with pytest.raises(IllegalTransition, match="before the appointment starts"):
        app.handle(MarkNoShow(OWNER, booking_id))
    clock.now = new_york(2, 9, 10)
    app.handle(MarkNoShow(OWNER, booking_id))
    assert booking(app, booking_id).status is BookingStatus.NO_SHOW


def test_every_command_has_exactly_one_handler() -> None:
    import commands as package

    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    ]
    commands = {
        c
        for module in (messages, payment_messages, *modules)
        for c in vars(module).values()
        if isinstance(c, type) and c.__module__ == module.__name__
    }
    concrete = {c for c in commands if issubclass(c, messages.Command) and c.__subclasses__() == []}
    assert concrete == set(HANDLERS)


def test_refuses_a_command_nobody_handles(app: SlotWise) -> None:
    @dataclass(frozen=True)
    class Teleport(messages.BookingCommand):
        pass

    with pytest.raises(TypeError, match="no handler for Teleport"):
        app.handle(Teleport(OWNER, uuid4()))


def test_refuses_the_loser_of_a_race_for_the_same_slot(
    app: SlotWise, salon: tuple[UUID, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    business_id, service_id = salon
    read_allocations = app.allocations
    rivals: list[UUID] = []
    raced = False

    def stale_allocations(business: UUID, start: datetime, end: datetime) -> list[DayAllocation]:
        nonlocal raced
        stale = read_allocations(business, start, end)
        if not raced:  # Bob's write lands after Alice read the day but before she saves
            raced = True
            rivals.append(book(app, BOB, service_id, new_york(2, 9)))
        return stale

    monkeypatch.setattr(app, "allocations", stale_allocations)
    with pytest.raises(SlotUnavailable):
        book(app, ALICE, service_id, new_york(2, 9))
    assert list(held_on(app, business_id, TUESDAY)) == rivals


def test_places_a_booking_with_the_librarys_default_transcoder(clock: Clock) -> None:
    app = with_keys(
        SlotWise(env={"PERSISTENCE_MODULE": IN_MEMORY["PERSISTENCE_MODULE"]}, clock=clock)
    )
    _, service_id = open_salon(app, OWNER)
    app.place_booking(PlaceBooking(ALICE, service_id, new_york(2, 9)))
