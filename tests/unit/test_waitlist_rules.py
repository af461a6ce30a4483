"""The waitlist's rules on the write side: who may wait, who is offered a freed seat, and when.

Given a salon whose one chair is taken at 10:00, when seats free up, then the
line (first come, first) has the first claim on them: an offer is a hold, a
new booking cannot take a seat the line claims, and an offer that is declined
or runs out goes to the next in line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import (
    AddResource,
    CancelBooking,
    ChangeProfile,
    CreateService,
    RescheduleBooking,
)
from commands.payment_messages import ConfigurePayments
from commands.waitlist_messages import (
    AcceptOffer,
    DropEntry,
    ExpireOffer,
    JoinWaitlist,
    LeaveWaitlist,
    OfferFreedSeats,
)
from domain.actor import system_actor
from domain.allocation import DayAllocation
from domain.booking import BookingStatus
from domain.errors import (
    AlreadyWaiting,
    IllegalTransition,
    NotYourWaitlistEntry,
    OfferExpired,
    SlotAvailable,
    SlotUnavailable,
)
from domain.payment import PaymentSettings
from domain.resource_profile import ResourceProfile
from domain.service import ServiceTerms
from domain.values import Money
from domain.waitlist import EntryStatus, WaitlistEntry

from .builders import ALICE, BOB, OWNER, Clock, book, booking, customer, new_york

PM = system_actor("waitlist")
CAROL, DAN = customer("carol"), customer("dan")
TEN = new_york(2, 10)  # Tuesday 10:00 in New York
TUESDAY = date(2027, 3, 2)


def join(
    app: SlotWise, who: object, service_id: UUID, start: datetime = TEN, **extra: object
) -> UUID:
    return app.handle(JoinWaitlist(who, service_id, start, **extra)).id  # type: ignore[arg-type]


def entry(app: SlotWise, entry_id: UUID) -> WaitlistEntry:
    found: WaitlistEntry = app.repository.get(entry_id)
    return found


def offer_freed(app: SlotWise, business_id: UUID, day: date = TUESDAY) -> list[str]:
    offered: list[str] = app.handle(OfferFreedSeats(PM, business_id, day)).fields["offered"]
    return offered


def held(app: SlotWise, business_id: UUID) -> set[UUID]:
    day = app.load_or_none(DayAllocation, DayAllocation.create_id(business_id, TUESDAY))
    return set(day.held) if day else set()


@pytest.fixture
def full(app: SlotWise, salon: tuple[UUID, UUID]) -> tuple[UUID, UUID, UUID]:
    """Alice holds the only chair on Tuesday at 10:00."""
    business_id, service_id = salon
    return business_id, service_id, book(app, ALICE, service_id, TEN)


def test_a_customer_may_wait_only_for_a_full_start(app: SlotWise, full: tuple[UUID, ...]) -> None:
    _, service_id, _ = full
    with pytest.raises(SlotAvailable):
        join(app, BOB, service_id, new_york(2, 11))
    entry_id = join(app, BOB, service_id)
    assert entry(app, entry_id).status is EntryStatus.WAITING


def test_joining_twice_names_the_entry_already_waiting(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    _, service_id, _ = full
    first = join(app, BOB, service_id)
    with pytest.raises(AlreadyWaiting) as refused:
        join(app, BOB, service_id)
    assert refused.value.members() == {"entry_id": str(first)}


def test_a_freed_seat_is_the_first_in_lines_before_any_offer_is_made(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    _, service_id, alices = full
    join(app, BOB, service_id)
    app.handle(CancelBooking(ALICE, alices))
    with pytest.raises(SlotUnavailable):  # Carol books fast, but Bob is in line
        book(app, CAROL, service_id, TEN)


def test_the_first_in_line_is_offered_the_seat_as_a_hold_once(
    app: SlotWise, full: tuple[UUID, ...], clock: Clock
) -> None:
    business_id, service_id, alices = full
    bobs, carols = join(app, BOB, service_id), join(app, CAROL, service_id)
    app.handle(CancelBooking(ALICE, alices))
    assert offer_freed(app, business_id) == [str(bobs)]
    assert offer_freed(app, business_id) == []  # one seat freed: one offer, however often asked
    offered = entry(app, bobs)
    assert offered.status is EntryStatus.OFFERED
    assert offered.offer_expires_at == clock.now + timedelta(minutes=15)
    assert entry(app, carols).status is EntryStatus.WAITING
    assert bobs in held(app, business_id)  # a real hold, like a booking's


def test_accepting_turns_the_hold_into_a_booking(app: SlotWise, full: tuple[UUID, ...]) -> None:
    business_id, service_id, alices = full
    bobs = join(app, BOB, service_id)
    app.handle(CancelBooking(ALICE, alices))
    offer_freed(app, business_id)
    done = app.handle(AcceptOffer(BOB, bobs))
    placed = booking(app, done.id)
    assert (placed.status, placed.customer_id, placed.start) == (
        BookingStatus.CONFIRMED,
        "bob",
        TEN,
    )
    assert held(app, business_id) == {done.id}
    assert entry(app, bobs).status is EntryStatus.ACCEPTED
    with pytest.raises(IllegalTransition):
        app.handle(AcceptOffer(BOB, bobs))


def test_only_the_customer_or_the_business_may_accept(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    business_id, service_id, alices = full
    bobs = join(app, BOB, service_id)
    app.handle(CancelBooking(ALICE, alices))
    offer_freed(app, business_id)
    with pytest.raises(NotYourWaitlistEntry):
        app.handle(AcceptOffer(CAROL, bobs))
    assert app.handle(AcceptOffer(OWNER, bobs)).fields["status"] == "confirmed"


def test_an_offer_that_runs_out_goes_to_the_next_in_line(
    app: SlotWise, full: tuple[UUID, ...], clock: Clock
) -> None:
    business_id, service_id, alices = full
    bobs, carols = join(app, BOB, service_id), join(app, CAROL, service_id)
    app.handle(CancelBooking(ALICE, alices))
    offer_freed(app, business_id)
    with pytest.raises(IllegalTransition):  # not yet
        app.handle(ExpireOffer(PM, bobs))
    clock.advance(timedelta(minutes=15))
    with pytest.raises(OfferExpired):
        app.handle(AcceptOffer(BOB, bobs))
    app.handle(ExpireOffer(PM, bobs))
    assert entry(app, bobs).status is EntryStatus.EXPIRED
    assert offer_freed(app, business_id) == [str(carols)]


def test_declining_gives_the_seat_to_the_next_and_leaving_keeps_the_line(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    business_id, service_id, alices = full
    bobs, carols, dans = (join(app, who, service_id) for who in (BOB, CAROL, DAN))
    app.handle(LeaveWaitlist(CAROL, carols))
    assert entry(app, carols).status is EntryStatus.LEFT
    app.handle(CancelBooking(ALICE, alices))
    offer_freed(app, business_id)
    app.handle(LeaveWaitlist(BOB, bobs))
    assert entry(app, bobs).status is EntryStatus.DECLINED
    assert offer_freed(app, business_id) == [str(dans)]


def test_as_many_offers_as_seats_freed_in_line_order(app: SlotWise, clock: Clock) -> None:
    from .builders import open_salon

    business_id, service_id = open_salon(app, OWNER, capacity=3)
    taken = [book(app, who, service_id, TEN) for who in (ALICE, customer("x"), customer("y"))]
    line = [join(app, who, service_id) for who in (BOB, CAROL, DAN)]
    for booking_id in taken[:2]:
        app.handle(CancelBooking(OWNER, booking_id))
    assert offer_freed(app, business_id) == [str(e) for e in line[:2]]
    with pytest.raises(SlotUnavailable):
        book(app, customer("z"), service_id, TEN)
    app.handle(ChangeProfile(OWNER, business_id, capacity=5))  # two more places: one left over
    assert offer_freed(app, business_id) == [str(line[2])]
    book(app, customer("z"), service_id, TEN)


def test_a_customer_moving_away_frees_the_seat_for_the_line(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    business_id, service_id, alices = full
    bobs = join(app, BOB, service_id)
    app.handle(RescheduleBooking(ALICE, alices, new_york(2, 14)))
    assert offer_freed(app, business_id) == [str(bobs)]


def test_an_entry_still_waiting_when_its_start_passes_is_dropped(
    app: SlotWise, full: tuple[UUID, ...], clock: Clock
) -> None:
    _, service_id, _ = full
    bobs = join(app, BOB, service_id)
    with pytest.raises(IllegalTransition):
        app.handle(DropEntry(PM, bobs))
    clock.now = TEN
    app.handle(DropEntry(PM, bobs))
    assert entry(app, bobs).status is EntryStatus.DROPPED


def test_a_paid_service_offer_is_accepted_into_a_payment_hold(
    app: SlotWise, full: tuple[UUID, ...]
) -> None:
    business_id, service_id, alices = full
    app.handle(ConfigurePayments(OWNER, business_id, PaymentSettings(enabled=True)))
    bobs = join(app, BOB, service_id)
    app.handle(CancelBooking(OWNER, alices))
    offer_freed(app, business_id)
    placed = booking(app, app.handle(AcceptOffer(BOB, bobs)).id)
    assert placed.status is BookingStatus.PENDING_PAYMENT


def test_waiting_for_one_resource_is_not_offered_another(app: SlotWise, clock: Clock) -> None:
    from .builders import open_salon

    business_id, _ = open_salon(app, OWNER)
    joe, kim = (
        app.handle(AddResource(OWNER, business_id, ResourceProfile(name, "staff", "barber"))).id
        for name in ("Joe", "Kim")
    )
    terms = ServiceTerms("Beard", 60, Money.of("20", "USD"), requires={"category": "barber"})
    service_id = app.handle(CreateService(OWNER, business_id, terms)).id
    on_joe = book(app, ALICE, service_id, TEN, resource_id=joe)
    on_kim = book(app, customer("x"), service_id, TEN, resource_id=kim)
    for_joe = join(app, BOB, service_id, resource_id=joe)
    anyone = join(app, CAROL, service_id)
    app.handle(CancelBooking(OWNER, on_kim))
    assert offer_freed(app, business_id) == [str(anyone)]
    assert entry(app, anyone).offered_resources[0]["name"] == "Kim"
    app.handle(CancelBooking(OWNER, on_joe))
    assert offer_freed(app, business_id) == [str(for_joe)]
