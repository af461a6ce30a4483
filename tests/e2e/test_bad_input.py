"""Bad commands get a 4xx problem naming what is wrong, and append nothing to the event store."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import OWNER, Api, assert_names, assert_problem, fill

BUSINESS = {"name": "Salon", "slug": "new-salon", "timezone": "Europe/Berlin"}
PRICE = {"amount": "30.00", "currency": "EUR"}
SERVICE = {"name": "Cut", "duration_minutes": 60, "price": PRICE}
HOURS = "/v1/businesses/{business}/hours"
SERVICES = "/v1/businesses/{business}/services"
CLOSURES = "/v1/businesses/{business}/closures"
BOOKING = {"service_id": "{service}", "start": "2027-03-08T11:00:00+01:00"}


def hours(start: str, end: str, day: str = "mon") -> dict[str, Any]:
    return {"weekly": [{"day": day, "start": start, "end": end}]}


def service(**changes: Any) -> dict[str, Any]:
    return {**SERVICE, **changes}


def booking_at(start: str) -> dict[str, str]:
    return {"service_id": "{service}", "start": start}


def case(
    method: str, path: str, body: Any, status: int, name: str, kind: str = "", role: str = "owner"
) -> Any:
    return pytest.param(
        method, path, body, status, name, kind, role, id=f"{method} {path} {name} {kind}".strip()
    )


# method, path, body, status, what the problem must name, problem type ending, caller's role
CASES = [
    # wrong types, missing and unknown fields
    case("POST", "/v1/businesses", {**BUSINESS, "capacity": "lots"}, 422, "capacity"),
    case("POST", "/v1/businesses", ["Salon", "new-salon"], 422, "body"),
    case("POST", "/v1/businesses", {"name": "Salon", "slug": "x"}, 422, "timezone"),
    case("POST", "/v1/businesses", {**BUSINESS, "colour": "red"}, 422, "colour"),
    case("POST", SERVICES, service(duration_minutes="an hour"), 422, "duration_minutes"),
    case("POST", SERVICES, service(price={**PRICE, "tax": "1"}), 422, "price.tax"),
    case("PUT", HOURS, {"weekly": "mon 9-5"}, 422, "weekly"),
    case("POST", "/v1/bookings", {**BOOKING, "seat": 3}, 422, "seat", role="customer"),
    case("POST", "/v1/bookings", booking_at("next monday"), 422, "start", role="customer"),
    case("POST", "/v1/bookings", {"start": BOOKING["start"]}, 422, "service_id", role="customer"),
    case("POST", "/v1/bookings/{booking}/cancel", {"reason": ["no"]}, 422, "reason"),
    case("PATCH", "/v1/services/{service}", {"colour": "red"}, 422, "colour"),
    case("PUT", "/v1/businesses/not-a-uuid/hours", hours("09:00", "17:00"), 422, "business_id"),
    # unknown ids, and ids of the wrong kind
    case("PUT", "/v1/businesses/{missing}/hours", hours("09:00", "17:00"), 404, "{missing}"),
    case("POST", "/v1/businesses/{missing}/services", SERVICE, 404, "{missing}"),
    case("PUT", "/v1/businesses/{service}/hours", hours("09:00", "17:00"), 404, "{service}"),
    case("PATCH", "/v1/services/{missing}", {"seats": 2}, 404, "{missing}"),
    case("POST", "/v1/services/{business}/deactivate", None, 404, "{business}"),
    case("POST", "/v1/bookings", {**BOOKING, "service_id": "{missing}"}, 404, "{missing}"),
    case("POST", "/v1/bookings/{missing}/cancel", None, 404, "{missing}", "booking-not-found"),
    case("POST", "/v1/bookings/{business}/confirm", None, 404, "{business}", "booking-not-found"),
    # impossible times
    case("PUT", HOURS, hours("09:00", "25:00"), 422, "weekly[0].end", "invalid-hours"),
    case("PUT", HOURS, hours("25:00", "26:00"), 422, "weekly[0].start", "invalid-hours"),
    case("PUT", HOURS, hours("17:00", "09:00"), 422, "weekly[0].end", "invalid-hours"),
    case("PUT", HOURS, hours("9am", "5pm"), 422, "weekly[0].start", "invalid-hours"),
    case("PUT", HOURS, hours("09:00", "17:00", day="funday"), 422, "day"),
    case("PUT", HOURS, {"weekly": [hours("09:00", "12:00")["weekly"][0]] * 2}, 422, "weekly"),
    case("POST", CLOSURES, {"start": "2027-03-09T00:00Z", "end": "2027-03-08T00:00Z"}, 422, "end"),
    case("POST", CLOSURES, {"start": "2027-03-08T00:00", "end": "2027-03-09T00:00"}, 422, "start"),
    case("POST", "/v1/bookings", booking_at("2027-03-08T10:00:00"), 422, "start", role="customer"),
    case(
        "POST",
        "/v1/bookings",
        booking_at("2027-03-08T10:30+01:00"),
        422,
        "start",
        "offered",
        "customer",
    ),
    case(
        "POST",
        "/v1/bookings",
        booking_at("2027-03-07T10:00+01:00"),
        422,
        "start",
        "offered",
        "customer",
    ),
    case(
        "POST",
        "/v1/bookings",
        booking_at("2027-02-22T10:00+01:00"),
        422,
        "start",
        "notice",
        "customer",
    ),
    case(
        "POST",
        "/v1/bookings",
        booking_at("2029-03-05T10:00+01:00"),
        422,
        "start",
        "ahead",
        "customer",
    ),
    case("POST", "/v1/bookings/{booking}/reschedule", {"start": "2027-03-08T12:00"}, 422, "start"),
    # values the domain refuses
    case("POST", "/v1/businesses", {**BUSINESS, "timezone": "Mars/Olympus"}, 422, "timezone"),
    case("POST", "/v1/businesses", {**BUSINESS, "slug": "Not A Slug!"}, 422, "slug"),
    case("POST", "/v1/businesses", {**BUSINESS, "capacity": 0}, 422, "capacity"),
    case("POST", "/v1/businesses", {**BUSINESS, "slug": "salon"}, 409, "slug", "duplicate-slug"),
    case("POST", SERVICES, service(price={**PRICE, "amount": "-5.00"}), 422, "price.amount"),
    case("POST", SERVICES, service(price={**PRICE, "amount": "1.005"}), 422, "price.amount"),
    case("POST", SERVICES, service(price={**PRICE, "amount": "NaN"}), 422, "price"),
    case("POST", SERVICES, service(price={**PRICE, "currency": "euro"}), 422, "price.currency"),
    case("POST", SERVICES, service(duration_minutes=0), 422, "duration_minutes"),
    case("POST", SERVICES, service(seats=0), 422, "seats"),
    case("PATCH", "/v1/services/{service}", {"buffer_after_minutes": -5}, 422, "buffer_after"),
    case("PUT", "/v1/businesses/{business}/policy", {"min_notice_minutes": -1}, 422, "min_notice"),
    case("POST", "/v1/bookings", BOOKING, 422, "customer_id"),
]


@pytest.mark.shared_stack
@pytest.mark.parametrize(("method", "path", "body", "status", "name", "kind", "role"), CASES)
def test_a_bad_command_is_a_problem_naming_the_field_and_appends_nothing(
    api: Api,
    world: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    name: str,
    kind: str,
    role: str,
) -> None:
    sub = OWNER if role == "owner" else "ann"
    before = api.events()

    response = api.command(method, fill(path, world), sub, role, fill(body, world))

    problem = assert_problem(response, status)
    assert kind in problem["type"]
    assert_names(problem, fill(name, world))
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/businesses", b'{"name": "Salon",'),
        ("/v1/bookings", b"not json at all"),
        ("/v1/businesses/{business}/hours", b'{"weekly": [}'),
        ("/v1/bookings/{booking}/cancel", b"{'reason': 'single quotes'}"),
    ],
)
def test_a_malformed_json_body_is_a_400_problem(
    api: Api, world: dict[str, str], path: str, raw: bytes
) -> None:
    before = api.events()
    method = "PUT" if path.endswith("hours") else "POST"
    headers = {**api.auth(OWNER, "owner"), "Content-Type": "application/json"}

    response = api.write.request(method, fill(path, world), content=raw, headers=headers)

    problem = assert_problem(response, 400, "malformed-json")
    assert "JSON" in problem["detail"]
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("patch", "name"),
    [
        ({"name": None}, "name"),
        ({"duration_minutes": None}, "duration_minutes"),
        ({"seats": None}, "seats"),
        ({"buffer_after_minutes": None}, "buffer_after_minutes"),
    ],
)
def test_patching_a_service_field_to_null_is_refused_not_a_crash(
    api: Api, world: dict[str, str], patch: dict[str, Any], name: str
) -> None:
    before = api.events()
    path = fill("/v1/services/{service}", world)

    response = api.command("PATCH", path, OWNER, "owner", patch)

    assert_names(assert_problem(response, 422), name)
    assert api.events() == before


def test_a_key_longer_than_255_characters_is_refused(api: Api, world: dict[str, str]) -> None:
    before = api.events()
    response = api.command(
        "POST", "/v1/businesses", OWNER, "owner", BUSINESS, **{"Idempotency-Key": "k" * 256}
    )
    assert_names(assert_problem(response, 422), "Idempotency-Key")
    assert api.events() == before


def test_a_key_reused_on_another_path_is_refused(api: Api, world: dict[str, str]) -> None:
    key = {"Idempotency-Key": "one-key"}
    path = fill("/v1/businesses/{business}/policy", world)
    api.command("PATCH", path, OWNER, "owner", {"min_notice_minutes": 0}, 200, **key)
    before = api.events()

    response = api.command("POST", "/v1/businesses", OWNER, "owner", BUSINESS, **key)

    assert_names(assert_problem(response, 422), "Idempotency-Key")
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/bookings", booking_at("0001-01-01T00:00:00+05:00")),
        ("POST", "/v1/bookings", booking_at("9999-12-31T23:00:00-05:00")),
        ("POST", "/v1/bookings/{booking}/reschedule", {"start": "0001-01-01T00:00:00+05:00"}),
        ("POST", CLOSURES, {"start": "0001-01-01T00:00:00+05:00", "end": "2027-01-01T00:00Z"}),
    ],
)
def test_an_instant_that_leaves_the_calendar_in_utc_is_refused_not_a_crash(
    api: Api, world: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> None:
    role, sub = ("owner", OWNER) if path == CLOSURES else ("customer", "ann")
    before = api.events()

    response = api.command(method, fill(path, world), sub, role, fill(body, world))

    assert_names(assert_problem(response, 422), "start")
    assert api.events() == before
