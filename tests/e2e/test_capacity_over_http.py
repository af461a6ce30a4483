"""Capacity over HTTP, on both stores: two chairs seat two customers at once; a class shares
one place among its seats and keeps every other service out while it runs."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import MONDAY, OWNER, WEEKDAYS, Api, assert_problem, local

AVAILABILITY = {"from": MONDAY.isoformat(), "to": MONDAY.isoformat()}


def open_business(api: Api, slug: str, capacity: int, *seats: int) -> tuple[list[str], str]:
    """A Berlin business open 09:00-17:00 on weekdays with one 60-minute service per `seats`."""
    business = api.command(
        "POST",
        "/v1/businesses",
        OWNER,
        "owner",
        {"name": slug, "slug": slug, "timezone": "Europe/Berlin", "capacity": capacity},
        expect=201,
    ).json()["id"]
    weekly = [{"day": d, "start": "09:00", "end": "17:00"} for d in WEEKDAYS]
    api.command("PUT", f"/v1/businesses/{business}/hours", OWNER, "owner", {"weekly": weekly}, 200)
    services, token = [], ""
    for n, count in enumerate(seats):
        body = {
            "name": f"service {n}",
            "duration_minutes": 60,
            "price": {"amount": "30.00", "currency": "EUR"},
            "seats": count,
        }
        answer = api.command(
            "POST", f"/v1/businesses/{business}/services", OWNER, "owner", body, 201
        ).json()
        services.append(answer["id"])
        token = answer["consistency_token"]
    return services, token


def seats_left(api: Api, service_id: str, token: str) -> dict[str, int]:
    """Local start time -> seats_left, read after the write carrying `token`."""
    body: dict[str, Any] = api.query(
        f"/v1/services/{service_id}/availability", consistency=token, params=AVAILABILITY
    ).json()
    return {s["start"][11:16]: s["seats_left"] for s in body["slots"]}


def test_two_chairs_take_two_customers_at_ten_and_the_third_gets_409(api: Api) -> None:
    (haircut,), token = open_business(api, "two-chairs", 2, 1)
    assert seats_left(api, haircut, token)["10:00"] == 2

    first = api.book(haircut, local(MONDAY, 10), "ann", expect=201).json()
    assert seats_left(api, haircut, first["consistency_token"])["10:00"] == 1
    second = api.book(haircut, local(MONDAY, 10), "bob", expect=201).json()
    before = api.events()
    third = api.book(haircut, local(MONDAY, 10), "cem")

    assert_problem(third, 409, "slot-unavailable")
    assert api.events() == before
    left = seats_left(api, haircut, second["consistency_token"])
    assert "10:00" not in left
    assert left["09:00"] == left["11:00"] == 2


def test_a_three_seat_class_at_capacity_one_seats_three_and_blocks_other_services(
    api: Api,
) -> None:
    (yoga, massage), token = open_business(api, "yoga-loft", 1, 3, 1)
    assert seats_left(api, yoga, token)["10:00"] == 3

    last = ""
    for n, customer in enumerate(("ann", "bob", "cem")):
        last = api.book(yoga, local(MONDAY, 10), customer, expect=201).json()["consistency_token"]
        if n < 2:
            assert seats_left(api, yoga, last)["10:00"] == 2 - n
    before = api.events()

    assert_problem(api.book(yoga, local(MONDAY, 10), "dee"), 409, "slot-unavailable")
    assert_problem(api.book(massage, local(MONDAY, 10), "eve"), 409, "slot-unavailable")
    assert api.events() == before
    assert "10:00" not in seats_left(api, yoga, last)
    assert "10:00" not in seats_left(api, massage, last)
    assert seats_left(api, massage, last)["11:00"] == 1


def test_utilization_counts_each_chair_but_a_class_once(api: Api) -> None:
    (haircut, yoga), _ = open_business(api, "mixed", 2, 1, 4)
    api.book(haircut, local(MONDAY, 9), "ann", expect=201)
    api.book(haircut, local(MONDAY, 9), "bob", expect=201)
    api.book(yoga, local(MONDAY, 10), "cem", expect=201)
    token = api.book(yoga, local(MONDAY, 10), "dee", expect=201).json()["consistency_token"]
    listing = api.query("/v1/me/bookings", "dee", consistency=token).json()["items"]
    stats = api.query(
        f"/v1/businesses/{listing[0]['business_id']}/stats",
        OWNER,
        "owner",
        consistency=token,
        params=AVAILABILITY,
    ).json()["days"][0]
    assert stats["booked_minutes"] == 60 + 60 + 60  # two chairs at 09:00, one class at 10:00
    assert stats["open_minutes"] == 480  # the plain opening time
    assert stats["capacity_minutes"] == 2 * 480  # two chairs
