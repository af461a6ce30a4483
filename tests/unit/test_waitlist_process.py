"""The waitlist process manager's reactions: which events make it look for freed seats, and
which timers it keeps (its task book in memory; the SQL one is exercised end to end)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from commands.processes.waitlist.process import (
    AFTER_BOOKING,
    DROP,
    EXPIRE_OFFER,
    SWEEP,
    WaitlistProcess,
)
from domain.envelope import Envelope

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
SALON, OTHER = "b0000000-0000-0000-0000-000000000001", "b0000000-0000-0000-0000-000000000002"
CUT = "50000000-0000-0000-0000-000000000001"
ENTRY = "e0000000-0000-0000-0000-000000000001"


class Book:
    """An in-memory task book and watch list."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, str, datetime]] = []
        self.closed: list[tuple[str, tuple[str, ...]]] = []
        self.watched: dict[str, tuple[str, str, date]] = {}

    def schedule(self, trigger: Envelope, kind: str, key: str, due_at: datetime) -> None:
        self.tasks.append((kind, key, due_at))

    def close(self, key: str, kinds: Sequence[str], why: str) -> None:
        self.closed.append((key, tuple(kinds)))

    def watch(self, entry_id: str, business_id: str, service_id: str, first_day: date) -> None:
        self.watched[entry_id] = (business_id, service_id, first_day)

    def unwatch(self, entry_id: str) -> None:
        self.watched.pop(entry_id, None)

    def anyone_waiting(self) -> bool:
        return bool(self.watched)

    def businesses_waited_at(
        self, business_id: str | None = None, service_id: str | None = None
    ) -> list[str]:
        return sorted(
            {
                b
                for b, s, _ in self.watched.values()
                if business_id in (b, None) and service_id in (s, None)
            }
        )


def event(kind: str, subject: str, **data: Any) -> Envelope:
    return Envelope(
        id="00000000-0000-0000-0000-0000000000aa",
        type=f"slotwise.{kind}",
        subject=subject,
        time=NOW.isoformat(),
        data=data,
        position=1,
        aggregatetype=kind.split(".")[0],
        aggregateversion=1,
        schemaversion=2,
        actorid="x",
        actorrole="customer",
        correlationid="c",
        causationid="c",
    )


def joined(book: Book, process: WaitlistProcess) -> None:
    process.react(
        book,
        event(
            "waitlist_entry.joined",
            ENTRY,
            business_id=SALON,
            service_id=CUT,
            start="2027-03-08T10:00:00+00:00",
            occupied_start="2027-03-08T09:50:00+00:00",
        ),
    )


def test_a_join_is_watched_looked_at_once_and_dropped_at_its_start() -> None:
    book, process = Book(), WaitlistProcess(lambda: NOW)
    joined(book, process)
    assert book.watched == {ENTRY: (SALON, CUT, date(2027, 3, 8))}
    assert book.tasks == [
        (DROP, ENTRY, datetime(2027, 3, 8, 10, tzinfo=UTC)),
        (SWEEP, SALON, NOW),
    ]


def test_an_offer_sets_its_timer_and_leaves_the_watch_list() -> None:
    book, process = Book(), WaitlistProcess(lambda: NOW)
    joined(book, process)
    ends = "2027-03-01T12:15:00+00:00"
    process.react(book, event("waitlist_entry.offered", ENTRY, business_id=SALON, expires_at=ends))
    assert book.watched == {}
    assert book.closed == [(ENTRY, (DROP,))]
    assert book.tasks[-1] == (EXPIRE_OFFER, ENTRY, datetime.fromisoformat(ends))


def test_an_offer_ending_frees_its_seat_for_a_sweep_and_acceptance_does_not() -> None:
    book, process = Book(), WaitlistProcess(lambda: NOW)
    for ended in ("declined", "offer_expired", "left", "dropped"):
        book.tasks.clear()
        process.react(book, event(f"waitlist_entry.{ended}", ENTRY, business_id=SALON))
        assert book.tasks == [(SWEEP, SALON, NOW)], ended
    book.tasks.clear()
    process.react(book, event("waitlist_entry.accepted", ENTRY, business_id=SALON, booking_id="x"))
    assert book.tasks == [] and book.closed[-1] == (ENTRY, (DROP, EXPIRE_OFFER))


def test_changes_that_free_places_are_looked_at_only_where_somebody_waits() -> None:
    book, process = Book(), WaitlistProcess(lambda: NOW)
    booking = "c0000000-0000-0000-0000-000000000001"
    process.react(book, event("booking.cancelled", booking))
    process.react(book, event("business.closure_removed", SALON, closure_id="x"))
    assert book.tasks == []  # nobody waits anywhere: nothing to look for
    joined(book, process)
    book.tasks.clear()
    process.react(book, event("booking.cancelled", booking))
    process.react(book, event("booking.rescheduled", booking))
    process.react(book, event("business.resource_time_off_removed", SALON, resource_id="r"))
    process.react(book, event("business.profile_changed", OTHER, capacity=3))
    process.react(book, event("service.updated", CUT))
    assert book.tasks == [
        (AFTER_BOOKING, booking, NOW),
        (AFTER_BOOKING, booking, NOW),
        (SWEEP, SALON, NOW),
        (SWEEP, SALON, NOW),
    ]
    assert not process.handles("slotwise.booking.placed")  # taking a seat frees none
