"""Paid bookings in the domain: the hold, the payment's facts, refunds, and who may record them.

The payment saga's commands run here against the in-memory store, as the
`payment-saga` system actor; no Stripe is involved at this level.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking, CreateService, RescheduleBooking, SetPolicy
from commands.payment_messages import (
    AttachPaymentIntent,
    ConfigurePayments,
    ExpireHold,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
    RecordRefund,
)
from domain.actor import system_actor
from domain.booking import BookingStatus
from domain.errors import (
    IllegalTransition,
    InvalidInput,
    InvalidMoney,
    PaymentIntentConflict,
    RoleNotAllowed,
)
from domain.payment import PaymentSettings, PaymentStatus
from domain.service import ServiceTerms
from domain.values import BookingPolicy, Money

from .builders import ALICE, BOB, OWNER, Clock, book, booking, held_on, new_york

SAGA = system_actor("payment-saga")
S, P = BookingStatus, PaymentStatus
NINE = new_york(2, 9)  # Tuesday 2027-03-02, 14:00 UTC
PRICE = Decimal("30.00")


@pytest.fixture
def paid(app: SlotWise, salon: tuple[UUID, UUID]) -> tuple[UUID, UUID]:
    """The salon, taking payment online with a 15-minute hold."""
    app.handle(ConfigurePayments(OWNER, salon[0], PaymentSettings(enabled=True)))
    return salon


def pay(app: SlotWise, booking_id: UUID, intent: str = "pi_1", amount: Decimal = PRICE) -> None:
    app.handle(RecordPaymentSucceeded(SAGA, booking_id, intent, amount, "USD"))


def test_holds_the_slot_pending_payment_until_the_hold_ends(
    app: SlotWise, paid: tuple[UUID, UUID], clock: Clock
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    placed = booking(app, booking_id)
    assert placed.status is S.PENDING_PAYMENT
    payment = placed.paid_online()
    assert (payment.amount, payment.currency, payment.status) == (PRICE, "USD", P.REQUIRES_PAYMENT)
    assert payment.hold_expires_at == clock() + timedelta(minutes=15)
    assert booking_id in held_on(app, paid[0], NINE.date())


def test_never_holds_past_the_appointments_start(
    app: SlotWise, paid: tuple[UUID, UUID], clock: Clock
) -> None:
    clock.now = NINE - timedelta(minutes=5)
    booking_id = book(app, ALICE, paid[1], NINE)
    assert booking(app, booking_id).paid_online().hold_expires_at == NINE


def test_free_services_and_businesses_without_payments_book_as_before(
    app: SlotWise, paid: tuple[UUID, UUID], salon: tuple[UUID, UUID]
) -> None:
    terms = ServiceTerms("Consultation", 30, Money.of("0", "USD"))
    free = app.handle(CreateService(OWNER, paid[0], terms)).id
    consultation = booking(app, book(app, ALICE, free, NINE))
    assert (consultation.status, consultation.payment) == (S.CONFIRMED, None)
    app.handle(ConfigurePayments(OWNER, paid[0], PaymentSettings(enabled=False)))
    later = book(app, BOB, paid[1], new_york(2, 11))
    assert (booking(app, later).status, booking(app, later).payment) == (S.CONFIRMED, None)


def test_a_payment_within_the_hold_confirms_the_booking(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    pay(app, booking_id)
    paid_booking = booking(app, booking_id)
    assert paid_booking.status is S.CONFIRMED
    assert (paid_booking.paid_online().status, paid_booking.paid_online().received) == (
        P.SUCCEEDED,
        PRICE,
    )


def test_the_hold_ends_only_when_its_time_is_up_and_then_frees_the_slot(
    app: SlotWise, paid: tuple[UUID, UUID], clock: Clock
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    with pytest.raises(IllegalTransition, match="hold runs until"):
        app.handle(ExpireHold(SAGA, booking_id))
    clock.advance(timedelta(minutes=15))
    app.handle(ExpireHold(SAGA, booking_id))
    assert booking(app, booking_id).status is S.EXPIRED
    assert booking_id not in held_on(app, paid[0], NINE.date())
    assert booking(app, book(app, BOB, paid[1], NINE)).status is S.PENDING_PAYMENT


def test_money_that_arrives_after_the_hold_ended_is_owed_back(
    app: SlotWise, paid: tuple[UUID, UUID], clock: Clock
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    clock.advance(timedelta(minutes=16))
    app.handle(ExpireHold(SAGA, booking_id))
    bob = book(app, BOB, paid[1], NINE)
    pay(app, booking_id)
    late = booking(app, booking_id)
    assert late.status is S.EXPIRED  # never confirmed: the slot is Bob's now
    assert late.paid_online().status is P.REFUND_PENDING
    assert late.paid_online().note == "paid after the payment hold had ended"
    assert list(held_on(app, paid[0], NINE.date())) == [bob]
    app.handle(RecordRefund(SAGA, booking_id, "pi_1", "re_1", PRICE, "USD", "late"))
    assert booking(app, booking_id).paid_online().status is P.REFUNDED


def test_a_failed_payment_ends_the_hold_but_not_a_paid_booking(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    failing, paying = book(app, ALICE, paid[1], NINE), book(app, BOB, paid[1], new_york(2, 11))
    app.handle(RecordPaymentFailed(SAGA, failing, "pi_1", "card_declined"))
    assert (booking(app, failing).status, booking(app, failing).paid_online().status) == (
        S.EXPIRED,
        P.FAILED,
    )
    assert failing not in held_on(app, paid[0], NINE.date())
    pay(app, paying, "pi_2")
    with pytest.raises(IllegalTransition, match="succeeded already"):
        app.handle(RecordPaymentFailed(SAGA, paying, "pi_2", "an older attempt"))
    assert booking(app, paying).status is S.CONFIRMED


def test_records_a_payment_once_and_gives_a_second_one_back(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    pay(app, booking_id, "pi_1")
    version = booking(app, booking_id).version
    pay(app, booking_id, "pi_1")  # the same news again
    assert booking(app, booking_id).version == version
    pay(app, booking_id, "pi_2")  # a second intent paid too
    twice = booking(app, booking_id).paid_online()
    assert (twice.received, twice.refund_pending, twice.note) == (
        2 * PRICE,
        PRICE,
        "a second payment for a booking already paid",
    )


def test_cancelling_before_the_deadline_owes_a_refund_and_after_it_does_not(
    app: SlotWise, paid: tuple[UUID, UUID], clock: Clock
) -> None:
    app.handle(SetPolicy(OWNER, paid[0], BookingPolicy(cancellation_deadline_hours=24)))
    early, late = book(app, ALICE, paid[1], NINE), book(app, BOB, paid[1], new_york(2, 11))
    pay(app, early, "pi_1")
    pay(app, late, "pi_2")
    app.handle(CancelBooking(ALICE, early, "flu"))
    assert booking(app, early).paid_online().refund_pending == PRICE
    clock.now = new_york(2, 11) - timedelta(hours=2)
    app.handle(CancelBooking(OWNER, late, "closing"))
    assert booking(app, late).status is S.CANCELLED
    assert booking(app, late).paid_online().refund_pending == 0


def test_rescheduling_a_paid_booking_changes_nothing_about_its_payment(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    pay(app, booking_id)
    before = booking(app, booking_id).paid_online()
    app.handle(RescheduleBooking(ALICE, booking_id, new_york(3, 10)))
    after = booking(app, booking_id)
    assert after.status is S.CONFIRMED
    assert after.paid_online() == before


def test_a_booking_has_one_payment_intent(app: SlotWise, paid: tuple[UUID, UUID]) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    app.handle(AttachPaymentIntent(SAGA, booking_id, "pi_1"))
    app.handle(AttachPaymentIntent(SAGA, booking_id, "pi_1"))  # again: no change
    with pytest.raises(PaymentIntentConflict):
        app.handle(AttachPaymentIntent(SAGA, booking_id, "pi_2"))
    assert booking(app, booking_id).paid_online().intent_id == "pi_1"


def test_records_each_refund_once(app: SlotWise, paid: tuple[UUID, UUID]) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    pay(app, booking_id)
    app.handle(CancelBooking(ALICE, booking_id, ""))
    for _ in range(2):
        app.handle(RecordRefund(SAGA, booking_id, "pi_1", "re_1", PRICE, "USD", "in time"))
    refunded = booking(app, booking_id).paid_online()
    assert (refunded.refunded, refunded.status) == (PRICE, P.REFUNDED)


def test_only_slotwise_itself_records_payments(app: SlotWise, paid: tuple[UUID, UUID]) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    for who in (ALICE, OWNER):
        with pytest.raises(RoleNotAllowed):
            app.handle(RecordPaymentSucceeded(who, booking_id, "pi_1", PRICE, "USD"))
    with pytest.raises(RoleNotAllowed):
        app.handle(ConfigurePayments(ALICE, paid[0], PaymentSettings(enabled=True)))


def test_refuses_a_hold_of_no_time_and_a_price_stripe_cannot_charge(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    with pytest.raises(InvalidInput, match="hold_minutes"):
        PaymentSettings(enabled=True, hold_minutes=0)
    with pytest.raises(InvalidMoney, match="ISK"):  # ISO 4217: krónur have no decimals
        ServiceTerms("Fractional", 60, Money.of("12.50", "ISK"))
    assert held_on(app, paid[0], NINE.date()) == {}  # nothing was held


def test_news_about_another_intent_never_ends_the_bookings_hold(
    app: SlotWise, paid: tuple[UUID, UUID]
) -> None:
    booking_id = book(app, ALICE, paid[1], NINE)
    app.handle(AttachPaymentIntent(SAGA, booking_id, "pi_1"))
    with pytest.raises(PaymentIntentConflict):
        app.handle(RecordPaymentFailed(SAGA, booking_id, "pi_stray", "card_declined"))
    assert booking(app, booking_id).status is S.PENDING_PAYMENT
    assert booking_id in held_on(app, paid[0], NINE.date())
