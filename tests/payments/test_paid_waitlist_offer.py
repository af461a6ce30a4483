"""A paid service's waitlist: a payment hold that runs out frees the seat for the line, and
the offer accepted becomes a booking awaiting payment, paid like any other."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from infra.waitlist.service import WaitlistWorker
from tests.e2e.conftest import ANN, BOB
from tests.payments.conftest import TEN, Shop


def test_an_expired_payment_hold_is_offered_to_the_line_and_paid_for_on_acceptance(
    shop: Shop,
) -> None:
    salon = shop.open_paid_salon()
    anns = shop.api.book(salon.service_id, TEN, ANN, expect=201).json()
    path = f"/v1/services/{salon.service_id}/waitlist"
    body = {"start": TEN.isoformat()}
    entry = shop.api.command("POST", path, BOB, "customer", body, 201).json()

    shop.clock.now += timedelta(minutes=15)  # Ann never pays: her hold runs out
    shop.settle(lambda: shop.booking(anns["id"]).status.value == "expired", "Ann's hold to end")
    waitlist = WaitlistWorker(shop.container.waitlist, shop.container.app)
    while waitlist.step():
        pass
    assert shop.container.app.repository.get(UUID(entry["id"])).status.value == "offered"

    accepted = shop.api.command("POST", f"/v1/waitlist/{entry['id']}/accept", BOB, "customer")
    assert accepted.status_code == 201, accepted.text
    booking = accepted.json()
    assert booking["status"] == "pending_payment"
    payment = booking["payment"]
    assert payment["client_secret"].startswith(payment["payment_intent_id"])
    assert shop.stripe.pay(payment["payment_intent_id"]) == "succeeded"
    shop.settle(lambda: shop.booking(booking["id"]).status.value == "confirmed", "payment")
    assert shop.read_booking(booking["id"], BOB)["payment"]["status"] == "succeeded"
