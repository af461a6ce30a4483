"""Every list that can grow is paged: each item reached exactly once, in a stable order, and a
cursor the API did not give out is a 400, never an empty page or a crash."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from commands.messages import CreateService, PlaceBooking, RegisterBusiness, SetHours
from domain.actor import Actor, Role
from domain.service import ServiceTerms
from domain.values import WEEKDAYS, Money
from tests.e2e.conftest import ANN, OWNER, Api, assert_names, assert_problem, fill

_ALL_DAY = {day: {"start": "00:00", "end": "24:00"} for day in WEEKDAYS}
BOOKINGS = 510
CHAIRS = 10  # bookings per start: the id decides their order


def busy_business(api: Api) -> tuple[str, int]:
    """A business with BOOKINGS bookings of Ann's, CHAIRS at each start; its id, last position."""
    app, owner, ann = api.container.app, Actor(OWNER, Role.OWNER), Actor(ANN, Role.CUSTOMER)
    business = app.register_business(RegisterBusiness(owner, "Busy", "busy", "UTC", CHAIRS)).id
    app.set_hours(SetHours(owner, business, [{**d, "day": n} for n, d in _ALL_DAY.items()]))
    terms = ServiceTerms("Chair", 60, Money.of("10", "EUR"))
    service = app.create_service(CreateService(owner, business, terms)).id
    first = datetime.fromisoformat("2027-03-02T09:00:00+00:00")
    position = 0
    for n in range(BOOKINGS):
        start = first + timedelta(days=n // (CHAIRS * 10), hours=(n // CHAIRS) % 10)
        position = app.place_booking(PlaceBooking(ann, service, start)).position
    return str(business), position


def walk(api: Api, path: str, sub: str, role: str, limit: int, token: str) -> list[dict[str, Any]]:
    """Follow next_cursor from the first page to the last; every page but the last is full."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(BOOKINGS):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = api.query(path, sub, role, consistency=token, params=params).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit
    raise AssertionError("next_cursor never ran out")


@pytest.mark.settings(consistency_wait_seconds=20.0)
def test_paging_through_510_bookings_reaches_every_one_exactly_once_in_order(api: Api) -> None:
    business, position = busy_business(api)
    token = str(position)

    for path, sub, role, limit in (
        (f"/v1/businesses/{business}/bookings", OWNER, "owner", 50),
        (f"/v1/businesses/{business}/bookings", OWNER, "owner", 200),
        ("/v1/me/bookings", ANN, "customer", 50),
        ("/v1/me/bookings", ANN, "customer", 7),
    ):
        items = walk(api, path, sub, role, limit, token)
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)) == BOOKINGS, path
        keys = [(datetime.fromisoformat(i["start"]), i["id"]) for i in items]
        assert keys == sorted(keys), path


def test_my_bookings_filter_by_local_date_and_status(api: Api, world: dict[str, str]) -> None:
    token = world["token"]
    monday = {"from": "2027-03-08", "to": "2027-03-08"}
    mine = api.query("/v1/me/bookings", ANN, consistency=token, params=monday).json()
    assert [b["id"] for b in mine["items"]] == [world["booking"]]
    assert mine["next_cursor"] is None
    tuesday = {"from": "2027-03-09", "to": "2027-03-09"}
    assert api.query("/v1/me/bookings", ANN, params=tuesday).json()["items"] == []
    cancelled = api.query("/v1/me/bookings", ANN, params={"status": "cancelled"}).json()
    assert cancelled == {"items": [], "next_cursor": None}


def test_the_business_directory_pages_by_cursor(api: Api, world: dict[str, str]) -> None:
    first = api.query("/v1/businesses", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.query("/v1/businesses", params={"limit": 1, "cursor": first["next_cursor"]})
    rest = second.json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    found = {first["items"][0]["id"], rest["items"][0]["id"]}
    assert found == {world["business"], world["other_business"]}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


BOOKING_KEY = b'["booking","2027-03-08T09:00:00+00:00","' + str(UUID(int=5)).encode() + b'"]'
MALFORMED = {
    "garbage": "not a cursor!",
    "NUL byte": "abc\x00def",
    "only NUL": "\x00",
    "control character": "abc\x1bdef",
    "non-ASCII": "curs\u00f6r",
    "base64 of junk": b64(b"\xff\xfe\x00junk"),
    "base64 of a number": b64(b"12"),
    "another list's cursor": b64(b'["service","' + str(UUID(int=5)).encode() + b'"]'),
    "bad date": b64(BOOKING_KEY.replace(b"2027-03-08", b"2027-13-08")),
    "naive date": b64(BOOKING_KEY.replace(b"+00:00", b"")),
    "bad id": b64(BOOKING_KEY.replace(b"00000000", b"zzzzzzzz")),
    "extra part": b64(BOOKING_KEY[:-1] + b',"x"]'),
    "very long": "A" * 5000,
    "padding": b64(BOOKING_KEY) + "==",
}


@pytest.mark.parametrize(
    ("path", "sub", "role"),
    [
        ("/v1/me/bookings", ANN, "customer"),
        ("/v1/businesses/{business}/bookings", OWNER, "owner"),
        ("/v1/businesses", None, "customer"),
    ],
    ids=["mine", "business", "directory"],
)
def test_a_malformed_cursor_is_a_400_naming_it(
    api: Api, world: dict[str, str], path: str, sub: str | None, role: str
) -> None:
    for name, cursor in MALFORMED.items():
        response = api.query(fill(path, world), sub, role, params={"cursor": cursor}, expect=None)
        assert response.status_code == 400, (name, response.text)
        assert_names(assert_problem(response, 400, "malformed-cursor"), "cursor")


def test_a_well_formed_cursor_past_the_end_is_an_empty_last_page(
    api: Api, world: dict[str, str]
) -> None:
    late = b64(BOOKING_KEY.replace(b"2027", b"2099"))
    body = api.query("/v1/me/bookings", ANN, params={"cursor": late}).json()
    assert body == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_a_limit_outside_1_to_200_is_refused_naming_it(
    api: Api, world: dict[str, str], limit: str
) -> None:
    response = api.query("/v1/me/bookings", ANN, params={"limit": limit}, expect=None)
    assert_names(assert_problem(response, 422), "limit")
