"""The read API's view of the whole log: /v1/audit/events and /v1/audit/head."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from infra.audit.verify import verify_store
from infra.bootstrap import Container
from tests.integration.audit_helpers import RawStore, history

Headers = Callable[[str, str], dict[str, str]]


def test_the_head_is_the_chains_last_link(
    container: Container, read_client: TestClient, token: Headers
) -> None:
    history(container.app)
    auditor = token("auditor-1", "auditor")
    answer = read_client.get("/v1/audit/head", headers=auditor)
    assert answer.status_code == 200
    verdict = verify_store(RawStore(container).log)
    body = answer.json()
    assert (body["position"], body["chain_hash"]) == (verdict.position, verdict.head.hex())
    last = read_client.get(f"/v1/audit/events?after={body['position'] - 1}", headers=auditor)
    assert body["time"] == last.json()["items"][0]["time"]
    assert read_client.get("/v1/audit/head", headers=token("c", "customer")).status_code == 403


def test_events_page_by_position_with_chain_hashes(
    container: Container, read_client: TestClient, token: Headers
) -> None:
    history(container.app)
    auditor = token("auditor-1", "auditor")
    seen, after = [], "0"
    while after is not None:
        page = read_client.get(f"/v1/audit/events?limit=4&after={after}", headers=auditor).json()
        assert len(page["items"]) <= 4
        seen += page["items"]
        after = page["next_cursor"]
    positions = [e["position"] for e in seen]
    assert positions == RawStore(container).positions()
    head = read_client.get("/v1/audit/head", headers=auditor).json()
    assert seen[-1]["chain_hash"] == head["chain_hash"]
    assert {"actor", "correlation_id", "data", "type", "version"} <= seen[0].keys()


def test_events_filter_by_business_aggregate_correlation_type_and_time(
    container: Container, read_client: TestClient, token: Headers
) -> None:
    business_id, service_id = history(container.app, slug="mine")
    other_id, _ = history(container.app, slug="theirs")
    admin = token("admin-1", "admin")

    def items(query: str) -> list[dict[str, object]]:
        answer = read_client.get(f"/v1/audit/events?limit=200&{query}", headers=admin)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, object]] = answer.json()["items"]
        return found

    mine = items(f"business_id={business_id}")
    assert {"business", "service", "booking", "day_allocation"} <= {
        e["aggregate_type"] for e in mine
    }
    assert str(other_id) not in {e["aggregate_id"] for e in mine}
    service = items(f"aggregate_id={service_id}")
    assert {e["aggregate_id"] for e in service} == {str(service_id)}
    cancelled = items("type=slotwise.booking.cancelled")
    assert len(cancelled) == 2 and all(e["type"] == "slotwise.booking.cancelled" for e in cancelled)
    correlation = str(cancelled[0]["correlation_id"])
    assert {e["correlation_id"] for e in items(f"correlation_id={correlation}")} == {correlation}
    everything = items("")
    middle = everything[len(everything) // 2]
    moment = str(middle["time"]).replace("+00:00", "Z")
    assert all(str(e["time"]) <= str(middle["time"]) for e in items(f"to={moment}"))
    assert middle in items(f"to={moment}") and middle in items(f"from={moment}")
    same = sum(e["time"] == middle["time"] for e in everything)
    assert len(items(f"from={moment}")) + len(items(f"to={moment}")) == len(everything) + same


def test_bad_audit_queries_are_named(read_client: TestClient, token: Headers) -> None:
    auditor = token("auditor-1", "auditor")
    for query, field in (("after=-1", "after"), ("from=yesterday", "from"), ("type=a b", "type")):
        answer = read_client.get(f"/v1/audit/events?{query}", headers=auditor)
        assert answer.status_code == 422, query
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in answer.text
    answer = read_client.get("/v1/audit/events", headers=token("o", "owner"))
    assert answer.status_code == 403


def test_auditors_read_every_businesss_bookings(
    container: Container, read_client: TestClient, token: Headers
) -> None:
    business_id, _ = history(container.app)
    container.catch_up()
    answer = read_client.get(
        f"/v1/businesses/{business_id}/bookings", headers=token("auditor-1", "auditor")
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["items"]) == 4
    booking_id = answer.json()["items"][0]["id"]
    customer = read_client.get(
        f"/v1/businesses/{business_id}/bookings", headers=token("x", "customer")
    )
    assert customer.status_code == 403
    assert (
        read_client.get(f"/v1/bookings/{booking_id}", headers=token("a", "auditor")).status_code
        == 200
    )
