"""A value the read models cannot store must be refused up front, never accepted and then stall
the projector for everybody (read-your-writes would answer 503 for every later write)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    ANN,
    BOB,
    MONDAY,
    OWNER,
    Api,
    assert_names,
    assert_problem,
    fill,
    local,
)

NUL = "a\x00b"


def still_projecting(api: Api, service_id: str) -> None:
    """An ordinary write afterwards is visible to a read carrying its token."""
    later = api.book(service_id, local(MONDAY, 15), BOB, expect=201)
    token = later.json()["consistency_token"]
    path = f"/v1/bookings/{later.json()['id']}"
    # Each read waits up to consistency_wait_seconds (2 s); a loaded machine may need a few.
    # A stalled read side (the fault this file is about) never gets there.
    for _ in range(5):
        if api.query(path, BOB, consistency=token, expect=None).status_code == 200:
            return
    api.query(path, BOB, consistency=token)


def refused_or_readable(
    api: Api, before: int, response: Any, field: str, read_path: str, sub: str, role: str
) -> None:
    if response.status_code >= 400:
        assert 400 <= response.status_code < 500, response.text
        assert_names(assert_problem(response, response.status_code), field)
        assert api.events() == before
        return
    assert response.status_code in (200, 201), response.text
    token = response.json()["consistency_token"]
    api.query(read_path, sub, role, consistency=token)


CASES = [
    pytest.param(
        "POST",
        "/v1/bookings",
        {"service_id": "{service}", "start": "2027-03-08T12:00:00+01:00", "notes": NUL},
        "notes",
        ANN,
        "customer",
        "/v1/me/bookings",
        id="booking notes",
    ),
    pytest.param(
        "POST",
        "/v1/bookings/{booking}/cancel",
        {"reason": NUL},
        "reason",
        ANN,
        "customer",
        "/v1/bookings/{booking}",
        id="cancel reason",
    ),
    pytest.param(
        "POST",
        "/v1/businesses",
        {"name": NUL, "slug": "nul-salon", "timezone": "UTC"},
        "name",
        OWNER,
        "owner",
        "/v1/businesses/by-slug/nul-salon",
        id="business name",
    ),
    pytest.param(
        "POST",
        "/v1/businesses/{business}/services",
        {"name": NUL, "duration_minutes": 30, "price": {"amount": "1.00", "currency": "EUR"}},
        "name",
        OWNER,
        "owner",
        "/v1/businesses/{business}/services",
        id="service name",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field", "sub", "role", "read"), CASES)
def test_text_with_a_nul_byte_is_refused_or_readable_and_the_read_side_keeps_up(
    api: Api,
    world: dict[str, str],
    backend: str,
    request: pytest.FixtureRequest,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    sub: str,
    role: str,
    read: str,
) -> None:
    before = api.events()

    response = api.command(method, fill(path, world), sub, role, fill(body, world))

    refused_or_readable(api, before, response, field, fill(read, world), sub, role)
    still_projecting(api, world["service"])


@pytest.mark.parametrize("key", [None, "retry-safe"], ids=["plain", "with Idempotency-Key"])
def test_a_token_subject_too_long_for_the_read_models_is_refused_or_readable(
    api: Api,
    world: dict[str, str],
    backend: str,
    request: pytest.FixtureRequest,
    key: str | None,
) -> None:
    before = api.events()
    customer = "c" * 201
    headers = {"Idempotency-Key": key} if key else {}

    response = api.book(world["service"], local(MONDAY, 12), customer, **headers)

    refused_or_readable(api, before, response, "sub", "/v1/me/bookings", customer, "customer")
    still_projecting(api, world["service"])
