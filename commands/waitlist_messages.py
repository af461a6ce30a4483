"""Commands about the waitlist: customers join, accept and leave; the process manager offers.

The waitlist process manager sends `OfferFreedSeats`, `ExpireOffer` and
`DropEntry` as the `waitlist` system actor, each with an id derived from the
task (and so from the event) that caused it: a task run twice acts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands.messages import BookingRequest, Command
from domain.allocation import DayAllocation
from domain.waitlist import booking_id_for


@dataclass(frozen=True)
class JoinWaitlist(BookingRequest):
    """Wait in line for a full start (of one resource, with `resource_id`)."""

    def target(self) -> UUID:
        return self.context.new_id("waitlist-entry")


@dataclass(frozen=True)
class WaitlistCommand(Command):
    """A command on one existing waitlist entry."""

    entry_id: UUID

    def target(self) -> UUID:
        return self.entry_id


@dataclass(frozen=True)
class AcceptOffer(WaitlistCommand):
    """Turn the entry's offer into a booking (its one booking, whatever the retries)."""

    def target(self) -> UUID:
        return booking_id_for(self.entry_id)


@dataclass(frozen=True)
class LeaveWaitlist(WaitlistCommand):
    """Leave the line, or decline the offer (the seat goes to the next in line)."""


@dataclass(frozen=True)
class ExpireOffer(WaitlistCommand):
    """The offer's time ran out unanswered (the process manager's timer)."""


@dataclass(frozen=True)
class DropEntry(WaitlistCommand):
    """The start passed while the entry waited (the process manager's timer)."""


@dataclass(frozen=True)
class OfferFreedSeats(Command):
    """Offer every seat the line has first claim to on one day as a hold (the process
    manager, when something may have freed one)."""

    business_id: UUID
    day: date

    def target(self) -> UUID:
        return DayAllocation.create_id(self.business_id, self.day)
