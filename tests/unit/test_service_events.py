"""A service's events keep the shape they are stored in, and older shapes still load."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from commands.app import SlotWise
from domain.service import Service, ServiceTerms
from domain.values import Money

TERMS = [
    "name",
    "duration_minutes",
    "price_amount",
    "currency",
    "seats",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_interval_minutes",
    "requires",
    "also_requires",
]
CAUSE = ["actor_id", "actor_role", "correlation_id", "causation_id"]
WRITTEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def stored(app: SlotWise, service: Service) -> list[tuple[str, list[str]]]:
    """Each pending event's topic and the keys of its stored state, in stored order."""
    events = [app.mapper.to_stored_event(e) for e in service.collect_events()]
    return [(e.topic, list(app.mapper.transcoder.decode(e.state))) for e in events]


def test_created_and_updated_store_the_same_keys_in_the_same_order_as_before(
    app: SlotWise,
) -> None:
    service = Service.create(uuid4(), ServiceTerms("Cut", 30, Money(Decimal("20.00"), "EUR")))
    service.update(ServiceTerms("Cut", 45, Money(Decimal("25.00"), "EUR")))

    assert stored(app, service) == [
        (
            "domain.service:Service.Created",
            ["timestamp", "originator_topic", *CAUSE, "business_id", *TERMS, "class_version"],
        ),
        ("domain.service:Service.Updated", ["timestamp", *CAUSE, *TERMS, "class_version"]),
    ]


def store(app: SlotWise, service_id: UUID, version: int, event: str, **state: Any) -> None:
    """Write an event as an older release did (the version's own state, nothing upcast)."""
    state = {"timestamp": WRITTEN, **state}
    if version == 1:
        state["originator_topic"] = "domain.service:Service"
    record = StoredEvent(
        originator_id=service_id,
        originator_version=version,
        topic=f"domain.service:Service.{event}",
        state=app.mapper.transcoder.encode(state),
    )
    app.recorder.insert_events([record])


def old_terms(minutes: int, price: str) -> dict[str, Any]:
    """The terms as releases before resources stored them (no requires, no also_requires)."""
    return {
        "name": "Old cut",
        "duration_minutes": minutes,
        "price_amount": Decimal(price),
        "currency": "EUR",
        "seats": 1,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 0,
        "slot_interval_minutes": 15,
    }


def test_events_stored_before_causes_and_before_resources_still_load(app: SlotWise) -> None:
    service_id, business_id = uuid4(), uuid4()
    # Release 0.1: no class_version (1), no cause; the business in the created event.
    store(app, service_id, 1, "Created", business_id=business_id, **old_terms(30, "20.00"))
    # Before resources: class_version 2, with a cause.
    cause = {"actor_id": "owner", "actor_role": "owner", "correlation_id": "c", "causation_id": "c"}
    store(app, service_id, 2, "Updated", class_version=2, **cause, **old_terms(45, "25.00"))

    service = app.repository.get(service_id)

    assert (service.business_id, service.version, service.active) == (business_id, 2, True)
    assert service.terms() == ServiceTerms(
        "Old cut",
        45,
        Money(Decimal("25.00"), "EUR"),
        buffer_before_minutes=5,
        slot_interval_minutes=15,
    )
    assert service.requirement() is None
    events = list(app.events.get(service_id))
    assert [e.actor_id for e in events] == ["unrecorded", "owner"]  # type: ignore[attr-defined]
