"""Every way a payment can go wrong, and what the customer and the business see after it.

The classic race is here too: a hold expires, the slot is released, someone
else books it, and then the first customer's payment succeeds. The late money
goes back, with the reason recorded, and the slot is never double booked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.allocation import DayAllocation
from tests.e2e.conftest import ANN, BOB, MONDAY, OWNER, TUESDAY, local
from tests.payments.conftest import TEN, Shop

HOLD_OVER = timedelta(minutes=16)


def status_of(shop: Shop, booking_id: str) -> str:
    return shop.booking(booking_id).status.value


def payment_status(shop: Shop, booking_id: str) -> str:
    return shop.booking(booking_id).paid_online().status.value


def test_a_declined_card_releases_the_slot_and_ends_the_intent(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    intent_id = placed["payment"]["payment_intent_id"]

    assert shop.stripe.pay(intent_id, "pm_card_chargeCustomerFail") == "requires_payment_method"
    shop.settle(lambda: status_of(shop, placed["id"]) == "expired", "the hold to end")
    shop.settle(lambda: shop.stripe.intent(intent_id)["status"] == "canceled", "the cancel")

    seen = shop.read_booking(placed["id"], ANN)
    assert seen["payment"]["status"] == "failed"
    assert "card_declined" in seen["payment"]["note"]
    assert TEN in shop.api.starts(salon.service_id, MONDAY, consistency=shop.latest())
    assert shop.stats(salon.business_id)["bookings"] == 0  # an unpaid hold is no booking


def test_a_payment_after_the_hold_expired_is_refunded_and_never_double_books(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    ann = shop.api.book(salon.service_id, TEN, customer=ANN, expect=201).json()
    ann_intent = ann["payment"]["payment_intent_id"]

    shop.clock.now += HOLD_OVER
    shop.worker.step()  # the timer fires: Ann's hold ends and her slot is released
    assert status_of(shop, ann["id"]) == "expired"
    assert shop.stripe.intent(ann_intent)["status"] == "requires_payment_method"  # still payable

    bob = shop.api.book(salon.service_id, TEN, customer=BOB, expect=201).json()
    assert shop.stripe.pay(ann_intent) == "succeeded"  # Ann pays before SlotWise cancels
    assert shop.stripe.pay(bob["payment"]["payment_intent_id"]) == "succeeded"

    shop.settle(lambda: payment_status(shop, ann["id"]) == "refunded", "Ann's refund")
    shop.settle(lambda: status_of(shop, bob["id"]) == "confirmed", "Bob's confirmation")

    [refund] = shop.stripe.refunds(ann_intent)
    assert refund["amount"] == 3000
    seen = shop.read_booking(ann["id"], ANN)
    assert seen["status"] == "expired"
    assert seen["payment"]["refunded"] == {"amount": "30.00", "currency": "EUR"}
    assert seen["payment"]["note"] == "paid after the payment hold had ended"
    ann_events = [e.type for e in shop.events_of(ann["id"])]
    assert "slotwise.booking.confirmed" not in ann_events
    day_id = DayAllocation.create_id(UUID(salon.business_id), TEN.date())
    day: DayAllocation = shop.container.app.repository.get(day_id)
    assert [str(b) for b in day.held] == [bob["id"]]  # the slot is Bob's alone
    assert TEN not in shop.api.starts(salon.service_id, MONDAY, consistency=shop.latest())
    stats = shop.stats(salon.business_id)
    assert stats["revenue"] == [{"amount": "30.00", "currency": "EUR"}]  # Bob's, not Ann's
    assert stats["refunded"] == [{"amount": "30.00", "currency": "EUR"}]


def test_cancelling_in_time_refunds_and_after_the_deadline_does_not(shop: Shop) -> None:
    policy = {
        "min_notice_minutes": 0,
        "max_advance_days": 365,
        "cancellation_deadline_hours": 24,
        "requires_confirmation": False,
    }
    salon = shop.open_paid_salon(policy=policy)
    early = _paid_booking(shop, salon.service_id, TEN, ANN)
    late = _paid_booking(shop, salon.service_id, local(MONDAY, 14), BOB)

    shop.api.act(early["id"], "cancel", ANN, "customer", {"reason": "flu"})
    shop.settle(lambda: payment_status(shop, early["id"]) == "refunded", "the refund")
    [refund] = shop.stripe.refunds(early["payment"]["payment_intent_id"])
    assert refund["amount"] == 3000
    assert shop.read_booking(early["id"], ANN)["payment"]["note"] == (
        "cancelled before the cancellation deadline"
    )

    shop.clock.now = local(MONDAY, 14) - timedelta(hours=23)
    refused = shop.api.act(late["id"], "cancel", BOB, "customer", {"reason": "late"})
    assert refused.status_code == 409 and "deadline" in refused.json()["type"]
    shop.api.act(late["id"], "cancel", OWNER, "owner", {"reason": "closing early"})
    shop.settle(lambda: status_of(shop, late["id"]) == "cancelled", "the cancellation")
    shop.worker.step()
    assert shop.stripe.refunds(late["payment"]["payment_intent_id"]) == []
    assert payment_status(shop, late["id"]) == "succeeded"
    stats = shop.stats(salon.business_id)
    assert stats["cancellations"] == 2
    assert stats["revenue"] == [{"amount": "30.00", "currency": "EUR"}]  # kept, not refunded


def test_rescheduling_a_paid_booking_keeps_its_payment(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    paid = _paid_booking(shop, salon.service_id, TEN, ANN)

    to = {"start": local(TUESDAY, 11).isoformat()}
    moved = shop.api.act(paid["id"], "reschedule", ANN, "customer", to)
    assert moved.status_code == 200, moved.text
    shop.worker.step()

    assert status_of(shop, paid["id"]) == "confirmed"
    assert payment_status(shop, paid["id"]) == "succeeded"
    assert len(shop.stripe.intents_of(paid["id"])) == 1  # never a second charge
    assert shop.stripe.refunds(paid["payment"]["payment_intent_id"]) == []
    monday, tuesday = shop.stats(salon.business_id, MONDAY), shop.stats(salon.business_id, TUESDAY)
    assert monday["revenue"] == [{"amount": "0.00", "currency": "EUR"}]  # the money moved on
    assert tuesday["captured"] == tuesday["revenue"] == [{"amount": "30.00", "currency": "EUR"}]


def _paid_booking(shop: Shop, service_id: str, start: datetime, customer: str) -> Any:
    placed = shop.api.book(service_id, start, customer=customer, expect=201).json()
    shop.stripe.pay(placed["payment"]["payment_intent_id"])
    shop.settle(lambda: status_of(shop, placed["id"]) == "confirmed", "confirmation")
    return placed
