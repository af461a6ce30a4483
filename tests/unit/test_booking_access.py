"""Who may place, move, cancel and advance which booking."""

from __future__ import annotations

from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking, CheckInBooking, RescheduleBooking
from domain.actor import Actor
from domain.booking import BookingStatus
from domain.errors import (
    InvalidInput,
    NotYourBooking,
    NotYourBusiness,
    RoleNotAllowed,
)

from .builders import ALICE, AUDITOR, BOB, OWNER, RIVAL, book, booking, new_york


def test_refuses_an_auditor_booking(app: SlotWise, salon: tuple[UUID, UUID]) -> None:
    with pytest.raises(RoleNotAllowed):
        book(app, AUDITOR, salon[1], new_york(2, 9))


def test_refuses_a_customer_booking_for_someone_else(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    with pytest.raises(RoleNotAllowed):
        book(app, ALICE, salon[1], new_york(2, 9), customer_id="bob")


def test_lets_the_owner_book_on_behalf_of_a_named_customer(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        book(app, OWNER, salon[1], new_york(2, 9))
    assert refused.value.field == "customer_id"
    placed = booking(app, book(app, OWNER, salon[1], new_york(2, 9), customer_id="alice"))
    assert (placed.customer_id, placed.placed_by) == ("alice", "owner-1")


def test_refuses_the_owner_of_another_business_booking_there(
    app: SlotWise, salon: tuple[UUID, UUID]
) -> None:
    with pytest.raises(NotYourBusiness):
        book(app, RIVAL, salon[1], new_york(2, 9), customer_id="alice")


@pytest.mark.parametrize(
    ("intruder", "error"),
    [(BOB, NotYourBooking), (RIVAL, NotYourBusiness), (AUDITOR, NotYourBooking)],
)
def test_refuses_cancelling_someone_elses_booking(
    app: SlotWise, salon: tuple[UUID, UUID], intruder: Actor, error: type[Exception]
) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    with pytest.raises(error):
        app.cancel_booking(CancelBooking(intruder, booking_id))
    with pytest.raises(error):
        app.reschedule_booking(RescheduleBooking(intruder, booking_id, new_york(2, 11)))
    assert booking(app, booking_id).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("actor", "error"),
    [(ALICE, RoleNotAllowed), (RIVAL, NotYourBusiness), (AUDITOR, RoleNotAllowed)],
)
def test_lets_only_staff_check_in_a_customer(
    app: SlotWise, salon: tuple[UUID, UUID], actor: Actor, error: type[Exception]
) -> None:
    booking_id = book(app, ALICE, salon[1], new_york(2, 9))
    with pytest.raises(error):
        app.handle(CheckInBooking(actor, booking_id))
