"""Two write processes with aggregate caches on one event store: stale copies never overbook.

Each `SlotWise` below stands for one process: its own cache, one shared SQLite
event store. A copy one process cached goes stale when the other writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking, RescheduleBooking, SetPolicy
from domain.booking import Booking, BookingStatus
from domain.errors import SlotUnavailable
from domain.values import BookingPolicy
from tests.sealing import with_keys
from tests.unit.builders import (
    ALICE,
    BOB,
    IN_MEMORY,
    OWNER,
    Clock,
    book,
    customer,
    new_york,
    open_salon,
    utc,
)

CAROL = customer("carol")


def process(path: Path, max_age: float) -> SlotWise:
    env = {
        "TRANSCODER_TOPIC": IN_MEMORY["TRANSCODER_TOPIC"],
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
    }
    clock = Clock(utc(2027, 3, 1, 12))
    return with_keys(
        SlotWise(env=env, clock=clock, aggregate_cache_size=100, aggregate_cache_max_age=max_age)
    )


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[SlotWise, SlotWise, UUID, UUID]]:
    first = process(tmp_path / "events.sqlite", max_age=3600)
    second = process(tmp_path / "events.sqlite", max_age=3600)
    business_id, service_id = open_salon(first, OWNER)
    yield first, second, business_id, service_id
    first.close()
    second.close()


def test_a_stale_cached_day_cannot_double_book_a_slot(
    two: tuple[SlotWise, SlotWise, UUID, UUID],
) -> None:
    first, second, _, service_id = two
    book(first, ALICE, service_id, new_york(2, 9))  # `first` now caches the day
    book(second, BOB, service_id, new_york(2, 10))  # ...which `second` changes
    conflicts: list[int] = []
    first.on_conflict_retry = lambda: conflicts.append(1)

    with pytest.raises(SlotUnavailable):  # the save of the stale day fails, fresh state refuses
        book(first, CAROL, service_id, new_york(2, 10))
    assert conflicts == [1]  # it was served from the cache, and evicted when its save failed


def test_a_refusal_on_a_stale_cached_day_is_checked_on_fresh_state(
    two: tuple[SlotWise, SlotWise, UUID, UUID],
) -> None:
    first, second, _, service_id = two
    taken = book(first, ALICE, service_id, new_york(2, 9))  # `first` caches the day as taken
    second.handle(CancelBooking(ALICE, taken, "changed plans"))  # `second` frees it

    rebooked = book(first, BOB, service_id, new_york(2, 9))

    placed: Booking = second.repository.get(rebooked)
    assert placed.status is BookingStatus.CONFIRMED


def test_a_cancel_through_a_process_whose_day_is_stale_frees_the_slot(
    two: tuple[SlotWise, SlotWise, UUID, UUID],
) -> None:
    first, second, _, service_id = two
    book(second, BOB, service_id, new_york(2, 10))  # `second` caches the day without Ann
    ann = book(first, ALICE, service_id, new_york(2, 9))

    second.handle(CancelBooking(ALICE, ann, "changed plans"))  # on a copy that lacks her hold

    for writer in (first, second):  # the slot is free again, whichever process is asked
        rebooked = book(writer, CAROL, service_id, new_york(2, 9))
        second.handle(CancelBooking(CAROL, rebooked, "just checking"))


def test_a_reschedule_through_a_process_whose_day_is_stale_frees_the_old_slot(
    two: tuple[SlotWise, SlotWise, UUID, UUID],
) -> None:
    first, second, _, service_id = two
    book(second, BOB, service_id, new_york(2, 10))
    ann = book(first, ALICE, service_id, new_york(2, 9))

    second.handle(RescheduleBooking(ALICE, ann, new_york(3, 9)))

    book(first, CAROL, service_id, new_york(2, 9))


def test_a_business_changed_by_another_process_is_seen_at_once(tmp_path: Path) -> None:
    first = process(tmp_path / "events.sqlite", max_age=3600)
    second = process(tmp_path / "events.sqlite", max_age=3600)
    business_id, service_id = open_salon(first, OWNER)
    book(first, ALICE, service_id, new_york(2, 9))  # `first` caches the business
    second.handle(SetPolicy(OWNER, business_id, BookingPolicy(requires_confirmation=True)))

    placed: Booking = first.repository.get(book(first, BOB, service_id, new_york(2, 10)))

    assert placed.status is BookingStatus.PENDING  # not the cached policy's CONFIRMED
    first.close()
    second.close()


def test_a_business_changed_twice_through_processes_in_turn_is_saved_each_time(
    two: tuple[SlotWise, SlotWise, UUID, UUID],
) -> None:
    first, second, business_id, _ = two
    first.handle(SetPolicy(OWNER, business_id, BookingPolicy(requires_confirmation=True)))
    second.handle(SetPolicy(OWNER, business_id, BookingPolicy(min_notice_minutes=30)))

    # `first` still keeps its own copy from before `second`'s change: its save fails once,
    # and the retry must not be handed that same stale copy again.
    first.handle(SetPolicy(OWNER, business_id, BookingPolicy(max_advance_days=30)))

    assert second.repository.get(business_id).policy["max_advance_days"] == 30
