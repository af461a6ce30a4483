"""The paid booking as a customer lives it, over HTTP, against a fake Stripe server.

Given a salon that takes payment online, When Ann books a priced service,
Then her slot is held in pending_payment with a PaymentIntent to pay; When
she pays, Stripe's webhook confirms the booking, and the reads and the stats
show the money.
"""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.conftest import ANN, MONDAY, OWNER
from tests.payments.conftest import TEN, Shop


def test_a_paid_booking_holds_the_slot_until_stripe_reports_the_payment(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()

    assert placed["status"] == "pending_payment"
    assert placed["hold_expires_at"] == "2027-03-01T12:15:00+00:00"  # the clock + 15 minutes
    payment = placed["payment"]
    assert payment["provider"] == "stripe"
    assert payment["amount"] == {"amount": "30.00", "currency": "EUR"}
    assert payment["status"] == "requires_payment"
    assert payment["client_secret"].startswith(payment["payment_intent_id"])
    intent = shop.stripe.intent(payment["payment_intent_id"])
    assert (intent["amount"], intent["currency"]) == (3000, "eur")  # minor units
    assert intent["metadata"] == {"booking_id": placed["id"], "business_id": salon.business_id}

    starts = shop.api.starts(salon.service_id, MONDAY, consistency=placed["consistency_token"])
    assert TEN not in starts  # held while Ann pays

    assert shop.stripe.pay(payment["payment_intent_id"]) == "succeeded"
    shop.settle(lambda: shop.booking(placed["id"]).status.value == "confirmed", "confirmation")

    seen = shop.read_booking(placed["id"], ANN)
    assert seen["status"] == "confirmed"
    assert seen["payment"]["status"] == "succeeded"
    assert seen["payment"]["amount"] == {"amount": "30.00", "currency": "EUR"}
    assert seen["payment"]["refunded"] == {"amount": "0.00", "currency": "EUR"}
    confirmed_by = [e for e in shop.events_of(placed["id"]) if e.type.endswith(".confirmed")]
    assert [(e.actorid, e.actorrole) for e in confirmed_by] == [("payment-saga", "system")]

    stats = shop.stats(salon.business_id)
    assert stats["revenue"] == [{"amount": "30.00", "currency": "EUR"}]
    assert stats["captured"] == [{"amount": "30.00", "currency": "EUR"}]
    assert stats["bookings"] == 1


def test_amounts_go_to_stripe_in_the_currencys_minor_units(shop: Shop) -> None:
    salon = shop.open_paid_salon(price="3000", currency="JPY")
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    intent = shop.stripe.intent(placed["payment"]["payment_intent_id"])
    assert (intent["amount"], intent["currency"]) == (3000, "jpy")  # the yen has no minor unit

    shop.stripe.pay(intent["id"])
    shop.settle(lambda: shop.booking(placed["id"]).status.value == "confirmed", "confirmation")
    assert shop.booking(placed["id"]).paid_online().received == Decimal("3000")


def test_staff_cannot_confirm_a_booking_that_was_never_paid(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    refused = shop.api.act(placed["id"], "confirm", OWNER, "owner")
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("illegal-transition")
    assert "pending_payment" in refused.json()["detail"]
