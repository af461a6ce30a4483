"""Who may do what: bad or missing tokens are 401, other tenants' ids are 403; nothing appended."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from domain.actor import Role
from infra.auth import issue_token
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import ANN, BOB, OTHER_OWNER, Api, assert_names, assert_problem, fill

BOOKING = {"service_id": "{service}", "start": "2027-03-08T11:00:00+01:00"}
WEEK = {"weekly": [{"day": "mon", "start": "09:00", "end": "12:00"}]}


def case(method: str, path: str, body: Any, sub: str, role: str, kind: str) -> Any:
    return pytest.param(method, path, body, sub, role, kind, id=f"{role} {sub} {method} {path}")


# Another tenant's ids, or a role that may not do this: 403 with a stable type.
FORBIDDEN = [
    case("PUT", "/v1/businesses/{business}/hours", WEEK, OTHER_OWNER, "owner", "not-your-business"),
    case(
        "PATCH",
        "/v1/businesses/{business}/policy",
        {"min_notice_minutes": 5},
        OTHER_OWNER,
        "owner",
        "not-your-business",
    ),
    case(
        "POST",
        "/v1/businesses/{business}/closures",
        {"start": "2027-03-08T00:00Z", "end": "2027-03-09T00:00Z"},
        OTHER_OWNER,
        "owner",
        "not-your-business",
    ),
    case(
        "POST",
        "/v1/businesses/{business}/services",
        {"name": "Cut", "duration_minutes": 30, "price": {"amount": "1", "currency": "EUR"}},
        OTHER_OWNER,
        "owner",
        "not-your-business",
    ),
    case("PATCH", "/v1/services/{service}", {"seats": 3}, OTHER_OWNER, "owner", "not-your"),
    case("POST", "/v1/services/{service}/deactivate", None, OTHER_OWNER, "owner", "not-your"),
    case("POST", "/v1/bookings/{booking}/confirm", None, OTHER_OWNER, "owner", "not-your"),
    case("POST", "/v1/bookings/{booking}/cancel", None, OTHER_OWNER, "owner", "not-your"),
    case("POST", "/v1/bookings", {**BOOKING, "customer_id": BOB}, OTHER_OWNER, "owner", "not-your"),
    case("POST", "/v1/bookings/{booking}/cancel", {"reason": "x"}, BOB, "customer", "not-your"),
    case(
        "POST",
        "/v1/bookings/{booking}/reschedule",
        {"start": "2027-03-08T12:00:00+01:00"},
        BOB,
        "customer",
        "not-your-booking",
    ),
    case("POST", "/v1/bookings/{booking}/check-in", None, BOB, "customer", "role-not-allowed"),
    case("POST", "/v1/bookings", BOOKING, "audit-1", "auditor", "role-not-allowed"),
    case("POST", "/v1/bookings", {**BOOKING, "customer_id": ANN}, BOB, "customer", "role-not"),
    case(
        "POST", "/v1/businesses", {"name": "S", "slug": "s", "timezone": "UTC"}, BOB, "customer", ""
    ),
    case("PUT", "/v1/businesses/{business}/hours", WEEK, "audit-1", "auditor", "role-not-allowed"),
]


@pytest.mark.shared_stack
@pytest.mark.parametrize(("method", "path", "body", "sub", "role", "kind"), FORBIDDEN)
def test_acting_on_what_is_not_yours_is_forbidden_and_appends_nothing(
    api: Api,
    world: dict[str, str],
    method: str,
    path: str,
    body: Any,
    sub: str,
    role: str,
    kind: str,
) -> None:
    before = api.events()

    response = api.command(method, fill(path, world), sub, role, fill(body, world))

    problem = assert_problem(response, 403)
    assert kind in problem["type"]
    assert api.events() == before


def expired() -> str:
    return issue_token(JWT_SECRET, ANN, Role.CUSTOMER, ttl_seconds=-60)


def forged() -> str:
    return issue_token("not-the-secret-0123456789-0123456789", ANN, Role.CUSTOMER)


def no_sub() -> str:
    return jwt.encode({"role": "customer", "exp": 4_102_444_800}, JWT_SECRET, algorithm="HS256")


def bad_role() -> str:
    claims = {"sub": ANN, "role": "superuser", "exp": 4_102_444_800}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


AUTHORIZATIONS = [
    pytest.param(None, "Bearer", id="missing"),
    pytest.param("Bearer not.a.jwt", "token", id="garbage"),
    pytest.param("Basic YW5uOnNlY3JldA==", "Bearer", id="basic scheme"),
    pytest.param(lambda: f"Bearer {expired()}", "expired", id="expired"),
    pytest.param(lambda: f"Bearer {forged()}", "token", id="wrong secret"),
    pytest.param(lambda: f"Bearer {no_sub()}", "sub", id="no sub claim"),
    pytest.param(lambda: f"Bearer {bad_role()}", "role", id="unknown role"),
]


@pytest.mark.shared_stack
@pytest.mark.parametrize(("authorization", "name"), AUTHORIZATIONS)
def test_a_command_without_a_valid_token_is_401_and_appends_nothing(
    api: Api, world: dict[str, str], authorization: Any, name: str
) -> None:
    value = authorization() if callable(authorization) else authorization
    headers = {"Authorization": value} if value else {}
    before = api.events()

    response = api.write.post("/v1/bookings", json=fill(BOOKING, world), headers=headers)

    problem = assert_problem(response, 401, "unauthenticated")
    assert_names(problem, name)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(("authorization", "name"), AUTHORIZATIONS)
def test_a_private_read_without_a_valid_token_is_401(
    api: Api, world: dict[str, str], authorization: Any, name: str
) -> None:
    value = authorization() if callable(authorization) else authorization
    headers = {"Authorization": value} if value else {}
    for path in ("/v1/me/bookings", fill("/v1/bookings/{booking}", world)):
        assert_names(assert_problem(api.read.get(path, headers=headers), 401), name)
