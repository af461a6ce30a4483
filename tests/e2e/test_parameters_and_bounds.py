"""Path, query and header parameters are checked like body strings; reads are bounded.
Each refusal is a 4xx naming the parameter, never a 500, on both stores."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.conftest import ANN, OWNER, Api, assert_names, assert_problem, fill

BAD = {"NUL": "%00", "ESC": "%1B", "DEL": "%7F", "C1 next line": "%C2%85"}


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("template", "name", "sub"),
    [
        ("/v1/businesses/by-slug/sal{char}on", "slug", None),
        ("/v1/businesses/{business}{char}", "business_id", None),
        ("/v1/businesses/{business}/bookings?status=confirmed{char}", "status", OWNER),
        ("/v1/me/bookings?from=2027-03-08{char}", "from", ANN),
        ("/v1/services/{service}/availability?from=2027-03-08&to=2027-03-08{char}", "to", None),
        ("/v1/businesses?x{char}=1", "query parameter name", None),
    ],
    ids=["slug path", "uuid path", "status query", "from query", "to query", "query name"],
)
def test_a_control_character_in_a_parameter_is_a_422_naming_it(
    api: Api, world: dict[str, str], template: str, name: str, sub: str | None
) -> None:
    role = "owner" if sub == OWNER else "customer"
    for kind, char in BAD.items():
        path = fill(template.replace("{char}", "\0"), world).replace("\0", char)
        response = api.query(path, sub, role, expect=None)
        assert response.status_code == 422, (kind, response.text)
        assert_names(assert_problem(response, 422), name)


async def _post_raw_header(api: Api, path: str, name: bytes, value: bytes) -> httpx.Response:
    # TestClient re-encodes header values; the ASGI transport passes raw bytes as a server would.
    transport = httpx.ASGITransport(app=api.write.app, raise_app_exceptions=False)
    headers = [*api.auth(ANN, "customer").items(), (name, value)]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, headers=headers, json={"reason": "x"})


def test_an_idempotency_key_with_a_control_character_is_refused_and_appends_nothing(
    api: Api, world: dict[str, str]
) -> None:
    before = api.events()
    path = fill("/v1/bookings/{booking}/cancel", world)
    for value in (b"key\x00", b"key\x85", b"\x7f", b"\x1b[2J"):
        response = asyncio.run(_post_raw_header(api, path, b"Idempotency-Key", value))
        assert_names(assert_problem(response, 422), "Idempotency-Key")
    assert api.events() == before


def test_an_audit_version_beyond_any_history_is_a_422_not_a_crash(
    api: Api, world: dict[str, str]
) -> None:
    path = fill("/v1/audit/aggregates/{booking}/state", world)
    for version in (str(2**31), str(10**30), "9" * 400):
        params = {"version": version}
        response = api.query(path, "auditor-1", "auditor", params=params, expect=None)
        assert_names(assert_problem(response, 422), "version")


def one_minute_service(api: Api, world: dict[str, str]) -> tuple[str, str]:
    """A 1-minute service at the world's salon (open 09:00-17:00 on weekdays)."""
    body = {"name": "Tick", "duration_minutes": 1, "price": {"amount": "1.00", "currency": "EUR"}}
    path = fill("/v1/businesses/{business}/services", world)
    made = api.command("POST", path, OWNER, "owner", body, expect=201).json()
    return made["id"], made["consistency_token"]


def test_availability_beyond_3000_start_times_is_a_422_naming_to(
    api: Api, world: dict[str, str]
) -> None:
    service, token = one_minute_service(api, world)
    path = f"/v1/services/{service}/availability"
    six_days = {"from": "2027-03-08", "to": "2027-03-15"}  # 6 open days x 480 = 2880
    body = api.query(path, consistency=token, params=six_days).json()
    assert len(body["slots"]) == 6 * 480 - 60  # Ann's 10:00 haircut holds an hour

    for last in ("2027-03-16", "2027-05-08"):  # 7 open days: 3360; 62 days: far more
        response = api.query(path, params={"from": "2027-03-08", "to": last}, expect=None)
        assert_names(assert_problem(response, 422), "to")


def test_availability_beyond_62_days_is_a_422_naming_to(api: Api, world: dict[str, str]) -> None:
    path = fill("/v1/services/{service}/availability", world)
    response = api.query(path, params={"from": "2027-03-08", "to": "2027-05-09"}, expect=None)
    assert_names(assert_problem(response, 422), "to")
