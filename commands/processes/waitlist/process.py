"""The waitlist process manager's reactions: events become tasks, exactly once.

It runs on the consumer runtime like the payment saga (through the adapter in
`infra.waitlist.book`), so each task is written in the same transaction as
its checkpoint: a crash or a redelivery never loses or doubles one. It calls
nobody; `WaitlistActions` carries the tasks out: a *sweep* offers a business's
freed seats to its line, and the timers end offers and drop entries on time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid5

from commands.processes.waitlist.ports import WaitlistBook
from domain.envelope import Envelope

SWEEP, AFTER_BOOKING = "sweep", "after_booking"  # look for seats the line may take now
EXPIRE_OFFER, DROP = "expire_offer", "drop"  # an offer's end; an entry's start
OPEN, DONE, SKIPPED, FAILED = "open", "done", "skipped", "failed"
# Changes of a business or service that can free a place where somebody waits.
FREEING_BUSINESS = frozenset(
    f"slotwise.business.{name}"
    for name in (
        "closure_removed",
        "profile_changed",
        "hours_set",
        "policy_set",
        "resource_added",
        "resource_changed",
        "resource_reactivated",
        "resource_time_off_removed",
    )
)
FREEING_SERVICE = frozenset({"slotwise.service.updated", "slotwise.service.reactivated"})
# Booking events that release time (a move releases its old time).
FREEING_BOOKING = frozenset(
    {"slotwise.booking.cancelled", "slotwise.booking.expired", "slotwise.booking.rescheduled"}
)
# An entry leaving the line frees its offer's seat, or its claim on one.
LEAVING = frozenset(
    f"slotwise.waitlist_entry.{name}" for name in ("declined", "left", "offer_expired", "dropped")
)
Reaction = Callable[[WaitlistBook, Envelope], None]


def task_id(trigger_event_id: str, kind: str) -> str:
    """A task's id derives from the event that caused it: a redelivery meets its own task."""
    return str(uuid5(UUID(trigger_event_id), kind))


class WaitlistProcess:
    """The process manager's memory: who waits where, and what to do when."""

    name = "waitlist_offers"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.reactions: dict[str, Reaction] = {
            "slotwise.waitlist_entry.joined": self.joined,
            "slotwise.waitlist_entry.offered": self.offered,
            "slotwise.waitlist_entry.accepted": self.ended,
            **dict.fromkeys(LEAVING, self.ended),
            **dict.fromkeys(FREEING_BOOKING, self.booking_freed),
            **dict.fromkeys(FREEING_BUSINESS, self.business_changed),
            **dict.fromkeys(FREEING_SERVICE, self.service_changed),
        }

    def handles(self, event_type: str) -> bool:
        return event_type in self.reactions

    def react(self, book: WaitlistBook, envelope: Envelope) -> None:
        self.reactions[envelope.type](book, envelope)

    def joined(self, book: WaitlistBook, envelope: Envelope) -> None:
        business_id = envelope.text("business_id")
        first_day = envelope.instant("occupied_start").date()  # UTC: the line's first day
        book.watch(envelope.subject, business_id, envelope.text("service_id"), first_day)
        book.schedule(envelope, DROP, envelope.subject, envelope.instant("start"))
        # A seat may have freed between the join's check and now: look once.
        book.schedule(envelope, SWEEP, business_id, self.clock())

    def offered(self, book: WaitlistBook, envelope: Envelope) -> None:
        book.unwatch(envelope.subject)  # it holds its seat: no sweep needs to find it
        book.close(envelope.subject, (DROP,), "offered a seat")
        # The durable timer: a task due when the offer ends.
        book.schedule(envelope, EXPIRE_OFFER, envelope.subject, envelope.instant("expires_at"))

    def ended(self, book: WaitlistBook, envelope: Envelope) -> None:
        book.unwatch(envelope.subject)
        book.close(envelope.subject, (DROP, EXPIRE_OFFER), f"the entry is {_status(envelope)}")
        if envelope.type in LEAVING:
            book.schedule(envelope, SWEEP, envelope.text("business_id"), self.clock())

    def booking_freed(self, book: WaitlistBook, envelope: Envelope) -> None:
        if book.anyone_waiting():  # the booking's business is read when the task runs
            book.schedule(envelope, AFTER_BOOKING, envelope.subject, self.clock())

    def business_changed(self, book: WaitlistBook, envelope: Envelope) -> None:
        for business_id in book.businesses_waited_at(business_id=envelope.subject):
            book.schedule(envelope, SWEEP, business_id, self.clock())

    def service_changed(self, book: WaitlistBook, envelope: Envelope) -> None:
        for business_id in book.businesses_waited_at(service_id=envelope.subject):
            book.schedule(envelope, SWEEP, business_id, self.clock())


def _status(envelope: Envelope) -> str:
    return envelope.type.rpartition(".")[2].replace("_", " ")
