"""Turning payments on, and who may see and start a booking's payment; free bookings unchanged.

Bad input is a 4xx problem naming the field and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.bootstrap import bootstrap
from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, BOB, OTHER_OWNER, OWNER, assert_names, assert_problem
from tests.payments.conftest import TEN, Shop
from write_api.app import create_app as create_write_app


def payments_path(business_id: str) -> str:
    return f"/v1/businesses/{business_id}/payments"


@pytest.mark.parametrize("backend", ["sqlite"])  # HTTP validation: the store plays no part
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "hold_minutes": 0}, "hold_minutes"),
        ({"enabled": True, "hold_minutes": 1441}, "hold_minutes"),
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": True, "hold_minutes": "15"}, "hold_minutes"),
        ({"hold_minutes": 15}, "enabled"),
        ({"enabled": True, "currency": "EUR"}, "currency"),
    ],
)
def test_refuses_bad_payment_settings_naming_the_field(
    shop: Shop, body: dict[str, Any], field: str
) -> None:
    salon = shop.api.open_salon()
    written = shop.api.events()
    refused = shop.api.command("PUT", payments_path(salon.business_id), OWNER, "owner", body)
    assert_names(assert_problem(refused, 422), field)
    assert shop.api.events() == written


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_the_owner_turns_payments_on(shop: Shop) -> None:
    salon = shop.api.open_salon()
    body = {"enabled": True}
    path = payments_path(salon.business_id)
    assert_problem(shop.api.command("PUT", path, ANN, "customer", body), 403)
    assert_problem(shop.api.command("PUT", path, OTHER_OWNER, "owner", body), 403)
    missing = payments_path("0c6d3f1e-3a59-5b0e-8f0e-6b1f9e2b7d44")
    assert_problem(shop.api.command("PUT", missing, OWNER, "owner", body), 404)
    shop.api.command("PUT", path, OWNER, "owner", body, expect=200)


def test_free_services_and_businesses_without_payments_book_as_today(shop: Shop) -> None:
    paying = shop.open_paid_salon()
    free = shop.api.add_service(paying.business_id, OWNER, price="0.00")
    at_venue = shop.api.open_salon(owner=OTHER_OWNER, slug="pay-at-the-desk")

    for service_id in (free["id"], at_venue.service_id):
        placed = shop.api.book(service_id, TEN, expect=201).json()
        assert placed["status"] == "confirmed"
        assert "payment" not in placed
        assert shop.read_booking(placed["id"], ANN)["payment"] is None
        start_payment = f"/v1/bookings/{placed['id']}/payment"
        assert_problem(shop.api.command("POST", start_payment, ANN, "customer"), 409)
    assert shop.stripe.client.v1.payment_intents.list().data == []


def test_only_the_customer_and_the_business_see_a_bookings_payment(shop: Shop) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    path = f"/v1/bookings/{placed['id']}/payment"
    assert_problem(shop.api.command("POST", path, BOB, "customer"), 403)
    assert_problem(shop.api.command("POST", path, OTHER_OWNER, "owner"), 403)
    for sub, role in ((ANN, "customer"), (OWNER, "owner")):
        again = shop.api.command("POST", path, sub, role)
        assert again.status_code == 200, again.text
        assert again.json()["payment"]["client_secret"] == placed["payment"]["client_secret"]
    assert len(shop.stripe.intents_of(placed["id"])) == 1  # asked again, never created again


def test_without_stripe_configured_payments_cannot_be_turned_on(
    write_client: TestClient, token: Any
) -> None:
    business = write_client.post(
        "/v1/businesses",
        json={"name": "Salon", "slug": "salon", "timezone": "Europe/Berlin"},
        headers=token(OWNER, "owner"),
    ).json()
    path = payments_path(business["id"])
    on = write_client.put(path, json={"enabled": True}, headers=token(OWNER, "owner"))
    assert_names(assert_problem(on, 409, "payments-not-configured"), "enabled")
    off = write_client.put(path, json={"enabled": False}, headers=token(OWNER, "owner"))
    assert off.status_code == 200, off.text
    hook = write_client.post("/v1/payments/stripe/webhook", content=b"{}")
    assert_problem(hook, 409, "payments-not-configured")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_server_without_stripe_refuses_a_paid_booking_rather_than_hold_it_forever(
    shop: Shop, clock: FrozenClock, token: Any
) -> None:
    salon = shop.open_paid_salon()
    keyless = shop.container.settings.model_copy(update={"stripe_api_key": ""})
    elsewhere = bootstrap(keyless, clock=clock)  # the same store, served without a key
    try:
        with TestClient(create_write_app(elsewhere), raise_server_exceptions=False) as client:
            body = {"service_id": salon.service_id, "start": TEN.isoformat()}
            refused = client.post("/v1/bookings", json=body, headers=token(ANN, "customer"))
            assert_problem(refused, 409, "payments-not-configured")
            assert TEN in shop.api.starts(salon.service_id, TEN.date(), shop.latest())
    finally:
        elsewhere.close()
