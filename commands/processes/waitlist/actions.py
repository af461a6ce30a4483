"""What each waitlist task does: sweeps offer freed seats, timers end offers and entries.

Commands go out as the `waitlist` system actor. A sweep's offers are decided
on the DayAllocations (`OfferFreedSeats`), so a sweep run twice, or by two
workers at once, offers each freed seat once; a timer that fires twice meets
an entry that moved on and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from commands.app import SlotWise
from commands.messages import Command, CommandContext
from commands.processes.waitlist import process
from commands.processes.waitlist.ports import WaitingDays
from commands.waitlist_messages import DropEntry, ExpireOffer, OfferFreedSeats
from domain.actor import system_actor
from domain.booking import Booking
from domain.errors import BookingNotFound, WaitlistEntryNotFound
from domain.waitlist import EntryStatus, WaitlistEntry

WAITLIST = system_actor("waitlist")


@dataclass(frozen=True)
class Task:
    id: str
    kind: str
    key: str  # a business id (sweeps), a booking id (after_booking) or an entry id (timers)
    causation_id: str
    correlation_id: str
    due_at: datetime
    attempts: int
    failures: int

    def context(self, part: str = "") -> CommandContext:
        """The command's identity derives from the task (and so from its event)."""
        command_id = uuid5(UUID(self.id), f"command/{part}")
        return CommandContext(command_id, self.correlation_id, str(command_id))


@dataclass(frozen=True)
class Later:
    """Not yet: run the task again at `due_at` (this worker's clock is behind the writer's)."""

    due_at: datetime


Result = str | Later


class WaitlistActions:
    """Carries out one task; a DomainError means the entry moved on (the task is skipped)."""

    def __init__(self, app: SlotWise, days: WaitingDays) -> None:
        self.app, self.days = app, days
        self.kinds = {
            process.SWEEP: self.sweep,
            process.AFTER_BOOKING: self.after_booking,
            process.EXPIRE_OFFER: self.expire_offer,
            process.DROP: self.drop,
        }

    def run(self, task: Task) -> Result:
        return self.kinds[task.kind](task)

    def send(self, command: Command) -> str:
        done = self.app.handle(command)
        return f"{type(command).__name__} at version {done.version}"

    def sweep(self, task: Task) -> Result:
        return self._sweep(UUID(task.key), task)

    def after_booking(self, task: Task) -> Result:
        booking = self.app.load(Booking, UUID(task.key), BookingNotFound)
        return self._sweep(booking.business_id, task)

    def _sweep(self, business_id: UUID, task: Task) -> Result:
        offered: list[str] = []
        for day in self.days(str(business_id)):
            command = OfferFreedSeats(
                WAITLIST, business_id, day, context=task.context(day.isoformat())
            )
            offered += self.app.handle(command).fields.get("offered", [])
        return f"offered {len(offered)} seat(s): {', '.join(offered)}" if offered else "no offer"

    def entry(self, task: Task) -> WaitlistEntry:
        return self.app.load(WaitlistEntry, UUID(task.key), WaitlistEntryNotFound)

    def expire_offer(self, task: Task) -> Result:
        entry = self.entry(task)
        if entry.status is not EntryStatus.OFFERED:
            return f"nothing to do: the entry is {entry.status.value}"
        assert entry.offer_expires_at is not None
        if self.app.clock() < entry.offer_expires_at:
            return Later(entry.offer_expires_at)
        return self.send(ExpireOffer(WAITLIST, entry.id, context=task.context()))

    def drop(self, task: Task) -> Result:
        entry = self.entry(task)
        if entry.status is not EntryStatus.WAITING:
            return f"nothing to do: the entry is {entry.status.value}"
        if self.app.clock() < entry.start:
            return Later(entry.start)
        return self.send(DropEntry(WAITLIST, entry.id, context=task.context()))
