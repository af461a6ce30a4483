"""Events stored by an older release are upcast on every path that reads them (both stores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from commands.messages import RemoveClosure, SetPolicy
from domain.actor import Actor, Role
from domain.business import Business
from domain.closures import legacy_closure_id
from domain.values import BookingPolicy
from infra.bootstrap import Container
from infra.follower import adopt_legacy_tracking
from read_api.queries import get_business

OLD_OWNER = "owner-old"
WRITTEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
V1_DEFAULT_POLICY = {
    "min_notice_minutes": 0,
    "max_advance_days": 365,
    "cancellation_deadline_hours": 0,
    "requires_confirmation": False,
}


def store_v1(
    container: Container, aggregate_id: UUID, version: int, event: str, **state: Any
) -> None:
    """Write an event exactly as release 0.1 did: no class_version, no cause, no policy."""
    state = {"timestamp": WRITTEN, **state}
    if version == 1:
        state["originator_topic"] = "domain.business:Business"
    record = StoredEvent(
        originator_id=aggregate_id,
        originator_version=version,
        topic=f"domain.business:Business.{event}",
        state=container.app.mapper.transcoder.encode(state),
    )
    container.app.recorder.insert_events([record])


def old_business(container: Container) -> UUID:
    business_id = uuid4()
    store_v1(
        container,
        business_id,
        1,
        "Registered",
        owner_id=OLD_OWNER,
        name="Old Salon",
        slug="old-salon",
        timezone="Europe/Berlin",
        capacity=2,
    )
    week = [{"day": "mon", "start": "09:00", "end": "17:00"}]
    store_v1(container, business_id, 2, "HoursSet", weekly=week)
    return business_id


def test_an_old_business_loads_with_the_policy_of_its_release(container: Container) -> None:
    business_id = old_business(container)
    business = container.app.repository.get(business_id)
    assert isinstance(business, Business)
    assert business.policy == V1_DEFAULT_POLICY
    assert business.capacity == 2 and business.weekly[0]["day"] == "mon"


def test_an_old_business_takes_new_commands(container: Container) -> None:
    business_id = old_business(container)
    owner = Actor(OLD_OWNER, Role.OWNER)
    done = container.app.handle(SetPolicy(owner, business_id, BookingPolicy(min_notice_minutes=60)))
    assert done.version == 3
    assert container.app.repository.get(business_id).policy["min_notice_minutes"] == 60


def test_projectors_read_old_events_through_envelopes(container: Container) -> None:
    business_id = old_business(container)
    container.catch_up()
    with container.read_db.reader.connect() as conn:
        row = get_business(conn, business_id)
    assert row is not None
    assert row["policy"] == V1_DEFAULT_POLICY
    assert row["owner_id"] == OLD_OWNER and row["weekly"] == [
        {"day": "mon", "start": "09:00", "end": "17:00"}
    ]
    assert container.dead_letters.count() == 0


def test_the_audit_api_shows_old_events_with_what_is_known_of_their_cause(
    container: Container, read_client: TestClient, token: Any
) -> None:
    business_id = old_business(container)
    answer = read_client.get(
        f"/v1/audit/aggregates/{business_id}/events", headers=token("audit-1", "auditor")
    )
    assert answer.status_code == 200, answer.text
    registered, hours = answer.json()["events"]
    assert registered["type"] == "slotwise.business.registered"
    assert registered["schema_version"] == 3
    assert registered["actor"] == {"id": OLD_OWNER, "role": "unrecorded"}
    assert registered["correlation_id"] == registered["causation_id"] == "unrecorded"
    assert registered["data"]["max_advance_days"] == 365
    assert hours["type"] == "slotwise.business.hours_set"
    assert hours["actor"]["id"] == "unrecorded"
    assert registered["position"] < hours["position"]
    assert datetime.fromisoformat(registered["time"]) == WRITTEN


def test_an_upgraded_read_database_resumes_where_release_0_1_left_it(
    container: Container,
) -> None:
    with container.read_db.writer.begin() as conn:
        conn.execute(text("CREATE TABLE projection_tracking (projector VARCHAR(64), position INT)"))
        conn.execute(text("INSERT INTO projection_tracking VALUES ('bookings', 7), ('gone', 3)"))

    assert adopt_legacy_tracking(container.runtime) == 1

    reached = container.runtime.checkpoints("log", 0)
    assert reached["bookings"].offset == 7 and reached["bookings"].position == 7
    assert reached["availability"].offset == -1
    with container.read_db.reader.connect() as conn:
        assert not inspect(conn).has_table("projection_tracking")


CLOSED_FROM = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)
CLOSED_TO = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)


def closed_business(container: Container) -> UUID:
    """A business whose closures were recorded without ids: one by 0.1, one by 0.2 (v2)."""
    business_id = old_business(container)
    store_v1(container, business_id, 3, "ClosureAdded", start=CLOSED_FROM, end=CLOSED_TO, reason="")
    store_v1(
        container,
        business_id,
        4,
        "ClosureAdded",
        start=CLOSED_TO,
        end=CLOSED_TO + timedelta(hours=2),
        reason="lunch",
        class_version=2,
        actor_id=OLD_OWNER,
        actor_role="owner",
        correlation_id="c-4",
        causation_id="c-4",
    )
    return business_id


def derived_ids(business_id: UUID) -> list[UUID]:
    return [
        legacy_closure_id(business_id, CLOSED_FROM, CLOSED_TO, ""),
        legacy_closure_id(business_id, CLOSED_TO, CLOSED_TO + timedelta(hours=2), "lunch"),
    ]


def test_closures_recorded_without_ids_load_with_derived_ones(container: Container) -> None:
    business_id = closed_business(container)

    business = container.app.repository.get(business_id)

    assert [c["id"] for c in business.closures] == derived_ids(business_id)
    assert len(set(derived_ids(business_id))) == 2


def test_an_old_closure_can_be_removed_by_its_derived_id(container: Container) -> None:
    business_id = closed_business(container)
    owner = Actor(OLD_OWNER, Role.OWNER)
    lunch = derived_ids(business_id)[1]

    container.app.handle(RemoveClosure(owner, business_id, lunch))

    business = container.app.repository.get(business_id)
    assert [c["id"] for c in business.closures] == derived_ids(business_id)[:1]


def test_a_snapshot_without_closure_ids_gives_the_same_ids(container: Container) -> None:
    business_id = closed_business(container)
    business = container.app.repository.get(business_id)
    for closure in business.closures:  # as a snapshot taken by release 0.2 holds them
        del closure["id"]

    assert [business.closure(i)["id"] for i in derived_ids(business_id)] == derived_ids(business_id)


def test_the_read_api_lists_old_closures_with_their_derived_ids(
    container: Container, read_client: TestClient
) -> None:
    business_id = closed_business(container)
    container.catch_up()

    listed = read_client.get(f"/v1/businesses/{business_id}/closures")
    one = read_client.get(f"/v1/businesses/{business_id}/closures/{derived_ids(business_id)[0]}")

    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["items"]] == [str(i) for i in derived_ids(business_id)]
    assert one.status_code == 200 and one.json()["reason"] == ""
    assert container.dead_letters.count() == 0


def test_the_audit_api_shows_old_closures_with_their_ids_at_schema_version_3(
    container: Container, read_client: TestClient, token: Any
) -> None:
    business_id = closed_business(container)

    answer = read_client.get(
        f"/v1/audit/aggregates/{business_id}/events", headers=token("audit-1", "auditor")
    )

    closures = [e for e in answer.json()["events"] if e["type"].endswith("closure_added")]
    assert [e["schema_version"] for e in closures] == [3, 3]
    assert [e["data"]["closure_id"] for e in closures] == [str(i) for i in derived_ids(business_id)]
    assert closures[1]["correlation_id"] == "c-4"
