"""Over HTTP: every answer carries a correlation id, every event records it with its actor,
and what a later layer would choke on is refused at the edge."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.conftest import JWT_SECRET
from tests.e2e.conftest import ANN, MONDAY, OWNER, Api, Salon, assert_names, assert_problem, local

CORRELATION = "X-Correlation-Id"


def audit(api: Api, aggregate_id: str) -> list[dict[str, Any]]:
    answer = api.query(f"/v1/audit/aggregates/{aggregate_id}/events", "audit-1", "auditor")
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


def test_a_request_id_reaches_the_answer_and_every_event_the_request_causes(
    api: Api, salon: Salon
) -> None:
    placed = api.book(salon.service_id, local(MONDAY, 10), expect=201, **{CORRELATION: "order-77"})
    assert placed.headers[CORRELATION] == "order-77"
    booking_id = placed.json()["id"]
    api.query(f"/v1/bookings/{booking_id}", ANN, consistency=placed.json()["consistency_token"])

    (event,) = audit(api, booking_id)
    assert event["correlation_id"] == "order-77"
    assert event["actor"] == {"id": ANN, "role": "customer"}
    assert event["type"] == "slotwise.booking.placed"
    cancelled = api.act(booking_id, "cancel", ANN, "customer", {"reason": "ill"})
    assert cancelled.status_code == 200, cancelled.text
    placed_event, cancel_event = audit(api, booking_id)
    assert cancel_event["correlation_id"] == cancelled.headers[CORRELATION] != "order-77"
    assert cancel_event["causation_id"] != placed_event["causation_id"]


def test_business_and_service_events_name_their_owner(api: Api, salon: Salon) -> None:
    for aggregate_id in (salon.business_id, salon.service_id):
        events = audit(api, aggregate_id)
        assert {(e["actor"]["id"], e["actor"]["role"]) for e in events} == {(OWNER, "owner")}
        assert all(e["correlation_id"] and e["causation_id"] for e in events)


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    "sent", [b"", b"x" * 129, b"has space", b"semi;colon", "\u00fcnicode".encode("latin-1")]
)
def test_an_unusable_request_id_is_replaced_by_a_new_one(api: Api, sent: bytes) -> None:
    answer = api.read.get("/health", headers={CORRELATION: sent})
    returned = answer.headers[CORRELATION]
    assert returned.encode() != sent and 1 <= len(returned) <= 128


def test_every_answer_has_a_request_id_even_errors(api: Api) -> None:
    answer = api.read.get("/v1/businesses/not-a-uuid")
    assert answer.status_code == 422
    assert answer.headers[CORRELATION]


def token_with(sub: Any, role: str = "customer") -> dict[str, str]:
    claims = {"sub": sub, "role": role, "exp": int(time.time()) + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("sub", "role"),
    [
        ("ann\x00", "customer"),
        ("ann\ud800", "customer"),
        ("ann\x7f", "customer"),
        ("ann\u0085", "customer"),
        ("payment-saga", "system"),
    ],
    ids=["NUL", "lone surrogate", "DEL", "C1 control", "system role"],
)
def test_a_validly_signed_token_with_an_unusable_identity_is_a_401(
    api: Api, salon: Salon, sub: str, role: str
) -> None:
    before = api.events()
    body = {"service_id": salon.service_id, "start": local(MONDAY, 11).isoformat()}
    answer = api.write.post("/v1/bookings", json=body, headers=token_with(sub, role))
    problem = assert_problem(answer, 401)
    assert "Traceback" not in problem["detail"]
    assert api.events() == before


@pytest.mark.shared_stack
@pytest.mark.parametrize(
    ("name", "field"),
    [("Salon\x7f", "name"), ("\ufeff", "name"), ("\u200b\u200b", "name"), ("  \u3164 ", "name")],
    ids=["DEL", "only a BOM", "only zero-width spaces", "only a Hangul filler"],
)
def test_a_name_a_store_would_keep_but_nobody_could_read_is_refused(
    api: Api, name: str, field: str
) -> None:
    before = api.events()
    answer = api.command(
        "POST",
        "/v1/businesses",
        OWNER,
        "owner",
        {"name": name, "slug": "odd-name", "timezone": "UTC"},
    )
    assert_names(assert_problem(answer, 422), field)
    assert api.events() == before


def test_ready_reports_the_parked_event_count(api: Api) -> None:
    answer = api.read.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["dead_letters"] == 0
