"""Bad queries get a 4xx problem naming the parameter; local times that do not exist are refused."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ANN, OWNER, Api, assert_names, assert_problem, fill

AVAILABILITY = "/v1/services/{service}/availability"
STATS = "/v1/businesses/{business}/stats"
LISTING = "/v1/businesses/{business}/bookings"
MONDAY = {"from": "2027-03-08", "to": "2027-03-08"}


def case(path: str, params: dict[str, str], status: int, name: str, who: str = "") -> Any:
    return pytest.param(path, params, status, name, who, id=f"{path} {params} {who}")


READS = [
    case(AVAILABILITY, {"from": "2027-03-09", "to": "2027-03-08"}, 422, "to"),
    case(AVAILABILITY, {"from": "2027-03-01", "to": "2027-06-30"}, 422, "to"),
    case(AVAILABILITY, {"from": "2027-13-01", "to": "2027-03-08"}, 422, "from"),
    case(AVAILABILITY, {"to": "2027-03-08"}, 422, "from"),
    case("/v1/services/{missing}/availability", MONDAY, 404, "{missing}"),
    case("/v1/services/not-a-uuid/availability", MONDAY, 422, "service_id"),
    case("/v1/businesses/{missing}", {}, 404, "{missing}"),
    case("/v1/businesses/{service}", {}, 404, "{service}"),
    case("/v1/businesses/by-slug/nobody-here", {}, 404, "nobody-here"),
    case("/v1/businesses/{missing}/services", {}, 404, "{missing}"),
    case("/v1/businesses", {"limit": "0"}, 422, "limit"),
    case("/v1/bookings/{missing}", {}, 404, "{missing}", ANN),
    case(STATS, {"from": "2027-03-09", "to": "2027-03-08"}, 422, "to", OWNER),
    case(STATS, {"from": "2027-03-08"}, 422, "to", OWNER),
    case("/v1/businesses/{missing}/stats", MONDAY, 404, "{missing}", OWNER),
    case(LISTING, {"status": "lost"}, 422, "status", OWNER),
    case(LISTING, {"from": "2027-03-09", "to": "2027-03-08"}, 422, "to", OWNER),
    case("/v1/me/bookings", {"status": "lost"}, 422, "status", ANN),
]


@pytest.mark.shared_stack
@pytest.mark.parametrize(("path", "params", "status", "name", "who"), READS)
def test_a_bad_query_is_a_problem_naming_the_parameter(
    api: Api,
    world: dict[str, str],
    path: str,
    params: dict[str, str],
    status: int,
    name: str,
    who: str,
) -> None:
    role = "owner" if who == OWNER else "customer"
    response = api.query(fill(path, world), who or None, role, params=params, expect=None)
    assert_names(assert_problem(response, status), fill(name, world))


@pytest.mark.shared_stack
@pytest.mark.parametrize("garbage", ["latest", "-1", "12abc", " ", "1.5"])
def test_a_garbage_consistency_token_is_422_naming_the_header(
    api: Api, world: dict[str, str], garbage: str
) -> None:
    path = fill("/v1/businesses/{business}", world)
    response = api.query(path, consistency=garbage, expect=None)
    assert_names(assert_problem(response, 422), "X-Consistency-Token")


def test_a_consistency_token_too_long_for_int_is_422_not_a_crash(
    api: Api, world: dict[str, str]
) -> None:
    path = fill("/v1/businesses/{business}", world)
    response = api.query(path, consistency="9" * 5000, expect=None)  # int() refuses > 4300 digits
    assert_names(assert_problem(response, 422), "X-Consistency-Token")


def test_a_consistency_token_of_non_ascii_digits_is_422_not_a_crash(
    api: Api, world: dict[str, str]
) -> None:
    path = fill("/v1/businesses/{business}", world)
    # TestClient re-encodes header values as UTF-8; the ASGI transport sends the raw byte the way
    # a real server would, and Starlette decodes it as latin-1: "²", for which isdigit() is True.
    transport = httpx.ASGITransport(app=api.read.app, raise_app_exceptions=False)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path, headers={"X-Consistency-Token": b"\xb2"})

    response = asyncio.run(get())
    assert_names(assert_problem(response, 422), "X-Consistency-Token")


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("path", "params"),
    [
        (AVAILABILITY, {"from": "9999-12-31", "to": "9999-12-31"}),
        (AVAILABILITY, {"from": "0001-01-01", "to": "0001-01-01"}),
        (STATS, {"from": "9999-12-31", "to": "9999-12-31"}),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_4xx_not_a_crash(
    api: Api, world: dict[str, str], path: str, params: dict[str, str]
) -> None:
    response = api.query(fill(path, world), OWNER, "owner", params=params, expect=None)
    assert 400 <= response.status_code < 500, response.text


def new_york_sunday_service(api: Api) -> dict[str, Any]:
    """A New York business open 00:00-06:00 on Sundays; 2027-03-14 skips 02:00-03:00."""
    business = api.command(
        "POST",
        "/v1/businesses",
        OWNER,
        "owner",
        {"name": "Late Shop", "slug": "late-shop", "timezone": "America/New_York"},
        expect=201,
    ).json()["id"]
    weekly = {"weekly": [{"day": "sun", "start": "00:00", "end": "06:00"}]}
    api.command("PUT", f"/v1/businesses/{business}/hours", OWNER, "owner", weekly, 200)
    return api.add_service(business, OWNER)


def test_the_spring_forward_night_offers_only_local_times_that_exist(api: Api) -> None:
    service = new_york_sunday_service(api)
    path = f"/v1/services/{service['id']}/availability"
    params = {"from": "2027-03-14", "to": "2027-03-14"}
    body = api.query(path, consistency=service["consistency_token"], params=params).json()
    starts = [s["start"] for s in body["slots"]]
    assert starts == [
        "2027-03-14T00:00:00-05:00",
        "2027-03-14T01:00:00-05:00",
        "2027-03-14T03:00:00-04:00",
        "2027-03-14T04:00:00-04:00",
        "2027-03-14T05:00:00-04:00",
    ]


@pytest.mark.parametrize(
    "start",
    [
        "2027-03-14T02:30:00",  # naive: which offset? refused, not guessed
        "2027-03-14T02:30:00-05:00",  # 07:30Z = 03:30 EDT: off the hourly grid
        "2027-03-14T02:30:00-04:00",  # 06:30Z = 01:30 EST: off the hourly grid
    ],
)
def test_a_booking_at_a_local_time_that_does_not_exist_is_refused(api: Api, start: str) -> None:
    service = new_york_sunday_service(api)["id"]
    before = api.events()

    response = api.command(
        "POST", "/v1/bookings", ANN, "customer", {"service_id": service, "start": start}
    )

    assert_names(assert_problem(response, 422), "start")
    assert api.events() == before
