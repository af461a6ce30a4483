"""The consumer runtime on both stores: per-source checkpoints, parking, holding back, retrying."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from commands.messages import CancelBooking, PlaceBooking, RescheduleBooking
from domain.actor import Role
from domain.envelope import Envelope
from infra.auth import issue_token
from infra.bootstrap import Container
from infra.consumers.dead_letters import NotAtHead
from infra.consumers.runtime import Delivery
from infra.follower import read_log
from infra.settings import Settings
from projections.bookings import BookingsProjector
from projections.tables import bookings
from tests.conftest import JWT_SECRET, settings_for
from tests.integration.test_scenarios import ANN, BOB, MONDAY_10, open_salon, table_contents

# Bookings whose events the sabotaged bookings projector cannot apply.
POISONED: set[str] = set()


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Quick retries, so parking happens within the test."""
    base = settings_for(backend, tmp_path, request)
    return base.model_copy(update={"consumer_max_attempts": 3, "consumer_backoff_seconds": 0.01})


@pytest.fixture
def sabotaged(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The bookings projector fails on the events of the bookings in POISONED."""
    placed, cancelled = BookingsProjector.placed, BookingsProjector.cancelled

    def refuse_poison(original: Any) -> Any:
        def apply(self: BookingsProjector, conn: Any, envelope: Envelope) -> None:
            if envelope.subject in POISONED:
                raise ValueError("this projector cannot apply that booking")
            original(self, conn, envelope)

        return apply

    monkeypatch.setattr(BookingsProjector, "placed", refuse_poison(placed))
    monkeypatch.setattr(BookingsProjector, "cancelled", refuse_poison(cancelled))
    yield
    monkeypatch.undo()


def auth(sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, sub, Role(role))}"}


def deliver_until_quiet(container: Container, rounds: int = 40) -> None:
    """Catch up repeatedly, letting paused (backing-off) consumers resume."""
    for _ in range(rounds):
        container.catch_up()
        time.sleep(0.02)


def envelopes(container: Container) -> list[Envelope]:
    return [d.envelope for d in read_log(container.app.recorder, container.app.mapper, 0, 10_000)]


def feed_by_topic(container: Container, types: list[str]) -> None:
    """Deliver the log as a consumer of one topic per aggregate type would, in `types` order."""
    everything = envelopes(container)
    for aggregate_type in types:
        topic = [e for e in everything if e.aggregatetype == aggregate_type]
        deliveries = [Delivery(offset, e) for offset, e in enumerate(topic)]  # Kafka offsets: 0..
        container.runtime.deliver(f"slotwise.{aggregate_type}", 0, deliveries)


def test_services_fed_before_businesses_lose_nothing(container: Container) -> None:
    _, service = open_salon(container)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    container.catch_up()
    in_log_order = table_contents(container)
    for consumer in container.runtime.consumers:
        container.runtime.reset(consumer)

    feed_by_topic(container, ["booking", "service", "business"])

    assert table_contents(container) == in_log_order
    assert len(in_log_order["businesses"]) == 1
    reached = container.runtime.checkpoints("slotwise.business", 0).values()
    assert {c.offset for c in reached} == {1}  # Registered and HoursSet: offsets 0 and 1


def test_a_redelivered_topic_changes_nothing(container: Container) -> None:
    _, service = open_salon(container)
    booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    container.app.cancel_booking(CancelBooking(ANN, booking.id, "flu"))
    feed_by_topic(container, ["business", "service", "booking"])
    once = table_contents(container)
    feed_by_topic(container, ["booking", "business", "service"])
    assert table_contents(container) == once


def test_a_failing_event_is_parked_and_everything_else_goes_on(
    container: Container, sabotaged: None, read_client: TestClient
) -> None:
    _, service = open_salon(container)
    bad = container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))
    POISONED.add(str(bad.id))
    try:
        good = container.app.place_booking(
            PlaceBooking(ANN, service.id, MONDAY_10 + timedelta(hours=2))
        )
        container.app.reschedule_booking(
            RescheduleBooking(BOB, bad.id, MONDAY_10 + timedelta(days=1))
        )
        container.app.cancel_booking(CancelBooking(BOB, bad.id, "moved away"))

        deliver_until_quiet(container)

        letters = container.dead_letters.entries()
        assert [(d.consumer, d.status) for d in letters] == [
            ("bookings", "parked"),
            ("bookings", "held"),
            ("bookings", "held"),
        ]
        assert letters[0].attempts == 3 and "cannot apply" in letters[0].error
        assert [d.event_type for d in letters] == [
            "slotwise.booking.placed",
            "slotwise.booking.rescheduled",
            "slotwise.booking.cancelled",
        ]
        assert {d.aggregate_id for d in letters} == {str(bad.id)}
        scraped = text_string_to_metric_families(container.metrics.exposition().decode())
        (family,) = [f for f in scraped if f.name == "slotwise_dead_letter_events"]
        counted = {(s.labels["consumer"], s.labels["status"]): s.value for s in family.samples}
        assert counted == {("bookings", "parked"): 1, ("bookings", "held"): 2}
        with container.read_db.reader.connect() as conn:
            rows = conn.execute(select(bookings.c.id)).scalars().all()
        assert rows == [str(good.id)]  # the other booking is projected
        end = container.app.recorder.max_notification_id() or 0
        assert container.reached(("bookings", "availability", "business_stats")) == end
        held = table_contents(container)["allocations"]
        assert len(held) == 1  # availability applied all four events of both bookings
        answer = read_client.get(
            f"/v1/bookings/{good.id}",
            headers={**auth("ann", "customer"), "X-Consistency-Token": str(end)},
        )
        assert answer.status_code == 200, answer.text  # reads with a token stay available
    finally:
        POISONED.discard(str(bad.id))


def test_parked_events_are_retried_in_order_once_the_fault_is_gone(
    container: Container, sabotaged: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, service = open_salon(container)
    bad = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    POISONED.add(str(bad.id))
    container.app.cancel_booking(CancelBooking(ANN, bad.id, "changed my mind"))
    deliver_until_quiet(container)
    head, follower = container.dead_letters.entries()
    with pytest.raises(NotAtHead):
        container.dead_letters.retry(follower.id)

    outcome = container.dead_letters.retry(head.id)  # still failing: stays parked
    assert (outcome.applied, outcome.still_parked) == (0, 2)
    assert container.dead_letters.entries()[0].attempts == head.attempts + 1

    POISONED.discard(str(bad.id))
    outcome = container.dead_letters.retry(head.id)

    assert (outcome.applied, outcome.still_parked) == (2, 0)
    assert container.dead_letters.count() == 0
    with container.read_db.reader.connect() as conn:
        status = conn.execute(select(bookings.c.status)).scalar_one()
    assert status == "cancelled"


def test_discarding_the_head_leaves_the_next_one_parked(
    container: Container, sabotaged: None
) -> None:
    _, service = open_salon(container)
    bad = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    POISONED.add(str(bad.id))
    try:
        container.app.cancel_booking(CancelBooking(ANN, bad.id, "no"))
        deliver_until_quiet(container)
        head, _ = container.dead_letters.entries()
        assert container.dead_letters.discard(head.id) == 1
        (left,) = container.dead_letters.entries()
        assert left.status == "parked" and left.event_type == "slotwise.booking.cancelled"
    finally:
        POISONED.discard(str(bad.id))
