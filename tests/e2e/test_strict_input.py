"""Input is taken as sent, never coerced or guessed: a 422 naming the field, nothing appended."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ANN, OWNER, Api, assert_names, assert_problem, fill

BUSINESS = {"name": "Salon", "slug": "strict-salon", "timezone": "Europe/Berlin"}
PRICE = {"amount": "30.00", "currency": "EUR"}
SERVICE = {"name": "Cut", "duration_minutes": 60, "price": PRICE}
SERVICES = "/v1/businesses/{business}/services"
POLICY = "/v1/businesses/{business}/policy"
CLOSURES = "/v1/businesses/{business}/closures"
START = "2027-03-08T11:00:00+01:00"


def case(method: str, path: str, body: Any, name: str, role: str = "owner") -> Any:
    return (method, path, body, name, role)


def price(**changes: Any) -> dict[str, Any]:
    return {**SERVICE, "price": {**PRICE, **changes}}


CASES = [
    # money: real ISO 4217 currencies, decimal strings, no finer than the minor unit
    case("POST", SERVICES, price(currency="XYZ"), "price.currency"),
    case("POST", SERVICES, price(currency="XAU"), "price.currency"),
    case("POST", SERVICES, price(amount=" 1"), "price.amount"),
    case("POST", SERVICES, price(amount="1 "), "price.amount"),
    case("POST", SERVICES, price(amount=30), "price.amount"),
    case("POST", SERVICES, price(amount=30.5), "price.amount"),
    case("POST", SERVICES, price(amount="1e3"), "price.amount"),
    case("POST", SERVICES, price(amount="\u0661\u0662"), "price.amount"),  # Arabic-Indic 12
    case("POST", SERVICES, price(amount="500.5", currency="JPY"), "price.amount"),
    case("POST", SERVICES, price(amount="1.001", currency="EUR"), "price.amount"),
    case("PATCH", "/v1/services/{service}", {"price": {**PRICE, "currency": "XYZ"}}, "currency"),
    # integers and booleans are not coerced from strings (or from each other)
    case("POST", "/v1/businesses", {**BUSINESS, "capacity": "2"}, "capacity"),
    case("POST", "/v1/businesses", {**BUSINESS, "capacity": True}, "capacity"),
    case("POST", "/v1/businesses", {**BUSINESS, "capacity": 2.0}, "capacity"),
    case("POST", SERVICES, {**SERVICE, "duration_minutes": "60"}, "duration_minutes"),
    case("POST", SERVICES, {**SERVICE, "seats": True}, "seats"),
    case("PATCH", "/v1/services/{service}", {"buffer_after_minutes": "5"}, "buffer_after"),
    case("PUT", POLICY, {"requires_confirmation": "true"}, "requires_confirmation"),
    case("PUT", POLICY, {"requires_confirmation": 1}, "requires_confirmation"),
    case("PUT", POLICY, {"min_notice_minutes": "30"}, "min_notice_minutes"),
    # times are ISO 8601 strings with an offset, never numbers
    case("POST", "/v1/bookings", {"service_id": "{service}", "start": 1804579200}, "start", "c"),
    case("POST", "/v1/bookings", {"service_id": "{service}", "start": "1804579200"}, "start", "c"),
    case("POST", "/v1/bookings", {"service_id": "{service}", "start": "2027-03-08"}, "start", "c"),
    case("POST", CLOSURES, {"start": 1804579200, "end": "2027-03-09T00:00Z"}, "start"),
    case("POST", "/v1/bookings/{booking}/reschedule", {"start": 1804579200.5}, "start", "c"),
    # names need something visible; no text may carry control characters
    case("POST", "/v1/businesses", {**BUSINESS, "name": "\ufeff"}, "name"),
    case("POST", "/v1/businesses", {**BUSINESS, "name": "\u200b \u200b"}, "name"),
    case("POST", "/v1/businesses", {**BUSINESS, "name": "Salon\x7f"}, "name"),
    case("POST", SERVICES, {**SERVICE, "name": "Cut\x9b"}, "name"),
    case("POST", SERVICES, {**SERVICE, "name": "\u3164"}, "name"),
    case(
        "POST",
        "/v1/bookings",
        {"service_id": "{service}", "start": START, "notes": "ring\x07"},
        "notes",
        "c",
    ),
    case("POST", "/v1/bookings/{booking}/cancel", {"reason": "\x85"}, "reason", "c"),
    case(
        "POST",
        "/v1/bookings",
        {"service_id": "{service}", "start": START, "customer_id": "\u2060"},
        "customer_id",
    ),
]


def test_loose_input_is_refused_naming_the_field_and_appends_nothing(
    api: Api, world: dict[str, str]
) -> None:
    # One test walks every case: each would otherwise pay for its own world on both stores.
    before = api.events()
    for method, path, body, name, role in CASES:
        sub, role = (ANN, "customer") if role == "c" else (OWNER, "owner")

        response = api.command(method, fill(path, world), sub, role, fill(body, world))

        assert response.status_code == 422, (method, path, body, response.text)
        assert_names(assert_problem(response, 422), name)
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("field", "raw"),
    [("reason", '{"reason": "x\\ud800"}'), ("reason", '{"reason": "\\udfff"}')],
)
def test_a_lone_surrogate_escape_in_json_is_refused_naming_the_field(
    api: Api, world: dict[str, str], field: str, raw: str
) -> None:
    before = api.events()
    headers = {**api.auth(ANN, "customer"), "Content-Type": "application/json"}
    path = fill("/v1/bookings/{booking}/cancel", world)

    response = api.write.post(path, content=raw.encode(), headers=headers)

    assert_names(assert_problem(response, 422), field)
    assert api.events() == before


def test_a_yen_price_takes_no_decimals_and_reads_back_as_whole_yen(
    api: Api, world: dict[str, str]
) -> None:
    body = {
        "name": "Kaisen",
        "duration_minutes": 30,
        "price": {"amount": "1500", "currency": "JPY"},
    }
    made = api.command("POST", fill(SERVICES, world), OWNER, "owner", body, expect=201).json()
    services = api.query(
        fill("/v1/businesses/{business}/services", world), consistency=made["consistency_token"]
    ).json()
    (yen,) = [s for s in services if s["id"] == made["id"]]
    assert yen["price"] == {"amount": "1500", "currency": "JPY"}
