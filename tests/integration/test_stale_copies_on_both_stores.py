"""Two write processes (two composed containers, each with its own aggregate cache) on one
event store: whichever process frees a slot, it comes back; a decision is never taken on a
copy that missed the other process's events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking, RescheduleBooking
from domain.allocation import DayAllocation
from domain.errors import SlotUnavailable
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from tests.conftest import FrozenClock
from tests.unit.builders import ALICE, BOB, OWNER, book, customer, new_york, open_salon

CAROL, DAN = customer("carol"), customer("dan")


@pytest.fixture
def writers(settings: Settings, clock: FrozenClock) -> Iterator[tuple[Container, Container]]:
    first, second = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    yield first, second
    first.close()
    second.close()


def salon(app: SlotWise) -> tuple[UUID, UUID]:
    business_id, service_id = open_salon(app, OWNER)
    return business_id, service_id


def test_the_store_answers_whether_cached_versions_missed_events(
    writers: tuple[Container, Container],
) -> None:
    first, _ = writers
    assert first.app.versions_checker is not None  # one query for the whole read set
    business_id, service_id = salon(first.app)
    day = DayAllocation.create_id(business_id, new_york(2, 9).astimezone(UTC).date())
    book(first.app, ALICE, service_id, new_york(2, 9))
    allocation = first.app.repository.get(day)

    newer = first.app.newer
    assert not newer([(service_id, 1), (day, allocation.version)])
    assert newer([(service_id, 1), (day, allocation.version - 1)])
    assert newer([(day, 0)])
    assert not newer([(UUID(int=7), 0)])  # an id the store never saw has nothing newer


def test_a_slot_freed_through_either_process_can_be_booked_through_both(
    writers: tuple[Container, Container],
) -> None:
    first, second = (c.app for c in writers)
    _, service_id = salon(first)
    for round_ in range(3):  # alternate who caches what, and cancel vs reschedule
        day = 2 + round_
        book(second, BOB, service_id, new_york(day, 10))  # second caches the day without Ann
        ann = book(first, ALICE, service_id, new_york(day, 9))
        if round_ % 2:
            second.handle(RescheduleBooking(ALICE, ann, new_york(day + 7, 9)))
        else:
            second.handle(CancelBooking(ALICE, ann, "plans changed"))

        carol = book(first, CAROL, service_id, new_york(day, 9))
        with pytest.raises(SlotUnavailable):  # and it is booked once, not twice
            book(second, DAN, service_id, new_york(day, 9))
        second.handle(CancelBooking(CAROL, carol, "freeing it again"))
        book(second, DAN, service_id, new_york(day, 9))
