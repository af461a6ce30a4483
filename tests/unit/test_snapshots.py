"""Every aggregate type snapshots and reloads to the state its events give."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate

from commands.app import SlotWise
from commands.messages import AddClosure, CancelBooking, ChangeProfile, SetPolicy
from domain.allocation import DayAllocation
from domain.booking import BookingStatus
from domain.business import SlugIndex
from domain.errors import IllegalTransition
from domain.slots import Occupancy
from domain.values import BookingPolicy
from tests.sealing import with_keys

from .builders import ALICE, BOB, IN_MEMORY, OWNER, Clock, book, new_york, open_salon


@pytest.fixture
def app(clock: Clock) -> SlotWise:
    """Snapshots on, every third event, on the in-memory store with our transcoder."""
    return with_keys(SlotWise(env=dict(IN_MEMORY), clock=clock, snapshot_interval=3))


def replayed(app: SlotWise, aggregate_id: UUID) -> Any:
    """The aggregate from its events alone, ignoring snapshots."""
    return project_aggregate(None, app.events.get(aggregate_id))


def reload_from_snapshot(app: SlotWise, aggregate_id: UUID) -> Any:
    app.take_snapshot(aggregate_id)
    assert app.snapshots is not None
    snapshot = next(iter(app.snapshots.get(aggregate_id, desc=True, limit=1)))
    return project_aggregate(None, [snapshot])


def history(app: SlotWise) -> dict[str, UUID]:
    business_id, service_id = open_salon(app, OWNER)
    app.handle(SetPolicy(OWNER, business_id, BookingPolicy(cancellation_deadline_hours=2)))
    app.handle(AddClosure(OWNER, business_id, new_york(4, 9), new_york(4, 10), "dentist"))
    app.handle(ChangeProfile(OWNER, business_id, address="1 Main St\nSpringfield"))
    kept = book(app, ALICE, service_id, new_york(2, 9))
    app.handle(CancelBooking(BOB, book(app, BOB, service_id, new_york(2, 11)), "no"))
    tuesday = DayAllocation.create_id(business_id, date(2027, 3, 2))
    slug = SlugIndex.create_id("salon")
    return {
        "business": business_id,
        "service": service_id,
        "booking": kept,
        "day": tuesday,
        "slug": slug,
    }


@pytest.mark.parametrize("kind", ["business", "service", "booking", "day", "slug"])
def test_each_aggregate_type_reloads_equal_from_its_snapshot(app: SlotWise, kind: str) -> None:
    aggregate_id = history(app)[kind]
    assert reload_from_snapshot(app, aggregate_id) == replayed(app, aggregate_id)


def test_a_booking_snapshot_keeps_its_status_a_status(app: SlotWise) -> None:
    booking_id = history(app)["booking"]
    booking = reload_from_snapshot(app, booking_id)
    assert booking.status is BookingStatus.CONFIRMED
    with pytest.raises(IllegalTransition):
        booking.confirm("owner-1")


def test_a_day_snapshot_keeps_occupancies_keyed_by_booking_id(app: SlotWise) -> None:
    ids = history(app)
    day = reload_from_snapshot(app, ids["day"])
    assert list(day.held) == [ids["booking"]]
    assert isinstance(day.held[ids["booking"]], Occupancy)


def test_snapshots_are_taken_at_the_interval_and_loads_use_them(app: SlotWise) -> None:
    business_id = history(app)["business"]
    assert app.snapshots is not None
    taken = [s.originator_version for s in app.snapshots.get(business_id)]
    assert taken == [3]  # four events so far: one snapshot, at every third
    for hours in (2, 3, 4):
        app.handle(SetPolicy(OWNER, business_id, BookingPolicy(cancellation_deadline_hours=hours)))
    assert [s.originator_version for s in app.snapshots.get(business_id)] == [3, 6]
    loaded = app.repository.get(business_id)
    assert loaded == replayed(app, business_id)
    assert loaded.policy["cancellation_deadline_hours"] == 4


def test_a_business_snapshot_keeps_its_address(app: SlotWise) -> None:
    business_id = history(app)["business"]
    assert reload_from_snapshot(app, business_id).address == "1 Main St\nSpringfield"


def test_a_day_snapshot_keeps_its_line_and_offers(app: SlotWise) -> None:
    from commands.waitlist_messages import JoinWaitlist, OfferFreedSeats
    from domain.actor import system_actor
    from domain.line import Waiting

    business_id, service_id = open_salon(app, OWNER)
    alices = book(app, ALICE, service_id, new_york(2, 9))
    bobs = app.handle(JoinWaitlist(BOB, service_id, new_york(2, 9))).id
    app.handle(CancelBooking(ALICE, alices))
    app.handle(OfferFreedSeats(system_actor("waitlist"), business_id, date(2027, 3, 2)))
    tuesday = DayAllocation.create_id(business_id, date(2027, 3, 2))
    day = reload_from_snapshot(app, tuesday)
    assert day == replayed(app, tuesday)
    assert isinstance(day.waiting[bobs], Waiting) and bobs in day.held
    assert day.last_seq == 1
    assert reload_from_snapshot(app, bobs) == replayed(app, bobs)


def test_snapshots_taken_as_events_are_saved_hold_the_state_their_events_give(
    app: SlotWise,
) -> None:
    """Snapshots are taken from the objects just saved, not read back: each one stored so
    far must equal the aggregate replayed from its events up to the snapshot's version."""
    ids = history(app)
    business_id, service_id = ids["business"], ids["service"]
    for hour in range(9, 17):  # enough bookings for the day to pass several intervals
        book(app, ALICE, service_id, new_york(3, hour))
    assert app.snapshots is not None
    wednesday = DayAllocation.create_id(business_id, date(2027, 3, 3))
    checked = 0
    for aggregate_id in (*ids.values(), wednesday):
        for snapshot in app.snapshots.get(aggregate_id):
            events = app.events.get(aggregate_id, lte=snapshot.originator_version)
            assert project_aggregate(None, [snapshot]) == project_aggregate(None, events)
            checked += 1
    assert checked >= 4  # the business and the day at least
