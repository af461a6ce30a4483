"""One scenario suite, run against both event stores (SQLite file and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from commands.messages import (
    CancelBooking,
    CreateService,
    PlaceBooking,
    RegisterBusiness,
    RescheduleBooking,
    SetHours,
)
from domain.actor import Actor, Role
from domain.errors import DuplicateSlug, SlotUnavailable
from domain.service import ServiceTerms
from domain.values import Money
from infra.bootstrap import Container
from infra.follower import LOG_PARTITION, LOG_SOURCE, catch_up, read_log
from projections.tables import availability_stamps, metadata

OWNER = Actor("owner-1", Role.OWNER)
ANN = Actor("ann", Role.CUSTOMER)
BOB = Actor("bob", Role.CUSTOMER)
MONDAY_10 = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # the clock fixture says 2027-03-01


def open_salon(container: Container, slug: str = "salon") -> tuple[Any, Any]:
    app = container.app
    business = app.register_business(RegisterBusiness(OWNER, "Salon", slug, "UTC", 1))
    week = [{"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed")]
    app.set_hours(SetHours(OWNER, business.id, week))
    terms = ServiceTerms("Cut", 60, Money.of(Decimal("30"), "EUR"), buffer_after_minutes=15)
    service = app.create_service(CreateService(OWNER, business.id, terms))
    return business, service


def project(container: Container) -> None:
    catch_up(container.app.recorder, container.app.mapper, container.runtime)


def table_contents(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every read model's rows; the read cache's stamps are random by design, so left out."""
    with container.read_db.reader.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, r)) for r in conn.execute(select(t)))
            for t in metadata.sorted_tables
            if t is not availability_stamps
        }


def test_a_booked_slot_is_refused_to_the_next_customer(container: Container) -> None:
    _, service = open_salon(container)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    with pytest.raises(SlotUnavailable):
        container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))


def test_the_buffer_after_blocks_the_following_slot(container: Container) -> None:
    _, service = open_salon(container)
    container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    with pytest.raises(SlotUnavailable):
        container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10 + timedelta(hours=1)))
    container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10 + timedelta(hours=2)))


def test_cancelling_frees_the_slot_for_someone_else(container: Container) -> None:
    _, service = open_salon(container)
    booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    container.app.cancel_booking(CancelBooking(ANN, booking.id, "ill"))
    taken = container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))
    assert taken.version == 1


def test_rescheduling_moves_the_hold_atomically(container: Container) -> None:
    _, service = open_salon(container)
    booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    later = MONDAY_10 + timedelta(days=1)
    container.app.reschedule_booking(RescheduleBooking(ANN, booking.id, later))
    container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))
    with pytest.raises(SlotUnavailable):
        container.app.place_booking(PlaceBooking(BOB, service.id, later))


def test_a_slug_is_taken_only_once(container: Container) -> None:
    open_salon(container, slug="only-one")
    with pytest.raises(DuplicateSlug):
        container.app.register_business(RegisterBusiness(OWNER, "Other", "only-one", "UTC", 1))


def test_read_models_follow_the_log_and_a_redelivery_changes_nothing(
    container: Container,
) -> None:
    _, service = open_salon(container)
    booking = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    container.app.cancel_booking(CancelBooking(ANN, booking.id, "moved away"))
    container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))
    project(container)
    before = table_contents(container)
    assert len(before["bookings"]) == 2
    assert len(before["allocations"]) == 1

    everything = read_log(container.app.recorder, container.app.mapper, 0, 1000)
    container.runtime.deliver(LOG_SOURCE, LOG_PARTITION, everything)

    assert table_contents(container) == before
    checkpoints = container.runtime.checkpoints(LOG_SOURCE, LOG_PARTITION).values()
    end = container.app.recorder.max_notification_id()
    assert {c.offset for c in checkpoints} == {end}


def test_a_rebuild_gives_exactly_the_state_the_live_path_gave(container: Container) -> None:
    _, service = open_salon(container)
    first = container.app.place_booking(PlaceBooking(ANN, service.id, MONDAY_10))
    project(container)  # live path: part now, part later
    container.app.reschedule_booking(
        RescheduleBooking(ANN, first.id, MONDAY_10 + timedelta(days=2))
    )
    container.app.place_booking(PlaceBooking(BOB, service.id, MONDAY_10))
    project(container)
    live = table_contents(container)

    for projector in container.runtime.consumers:
        container.runtime.reset(projector)
    assert table_contents(container)["bookings"] == []
    project(container)

    assert table_contents(container) == live
