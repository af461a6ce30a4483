"""The line at a start: who waits, in which order, and which freed seats are theirs first.

An entry waiting for a full start is kept, like a booking's hold, in the
DayAllocation of every UTC day its held interval touches (`Waiting`). The rule
that makes the line fair is **pending offers count as made**: before anything
else is decided on those days, each entry waiting without an offer (first
come, first) that fits beside what is held and what the entries before it
took, takes its seat. A new booking, a reschedule or a series sees those seats
taken, and the waitlist process manager turns exactly those seats into offers
(real holds). So a seat freed at a start somebody waits for goes to the line,
never to whoever books fastest, however late the process manager runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from domain.affected import is_open_for
from domain.resources import (
    Requirement,
    ResourceCalendar,
    bookings_per_resource,
    choose,
    free_groups,
    holds_of,
)
from domain.resources import (
    seats_left as resource_seats_left,
)
from domain.slots import Calendar, Occupancy, ServiceShape, seats_left


@dataclass(frozen=True)
class Waiting:
    """An entry in line at a DayAllocation: what it waits for, and its place (`seq`)."""

    entry_id: UUID
    service_id: UUID
    customer_id: str
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    resource_id: UUID | None
    seq: int

    def occupancy(self, resources: tuple[UUID, ...] = ()) -> Occupancy:
        """The hold the entry's offer takes (keyed by the entry's id)."""
        return Occupancy(
            self.entry_id,
            self.service_id,
            self.start,
            self.end,
            self.occupied_start,
            self.occupied_end,
            resources,
        )

    def shape(self, seats: int) -> ServiceShape:
        duration = self.end - self.start
        return ServiceShape(
            self.service_id,
            duration,
            self.start - self.occupied_start,
            self.occupied_end - self.end,
            duration,
            seats,
        )


@dataclass(frozen=True)
class WaitedService:
    """What decides whether an entry of a service fits: seats, resources needed, active."""

    seats: int
    requirement: Requirement | None
    active: bool = True


def in_line(waiting: Iterable[Waiting], held: Iterable[UUID] = ()) -> list[Waiting]:
    """The entries still waiting for an offer (the offered ones hold a seat), first come first."""
    offered = set(held)
    found = {w.entry_id: w for w in waiting if w.entry_id not in offered}
    return sorted(found.values(), key=lambda w: (w.seq, str(w.entry_id)))


@dataclass(frozen=True)
class Line:
    """Everything that decides whether an entry in line fits: the business's calendar and
    capacity, its resources, the services waited for, and the time now."""

    calendar: Calendar
    resources: Sequence[ResourceCalendar]
    services: Mapping[UUID, WaitedService]
    seats_of: Mapping[UUID, int]
    now: datetime

    def fit(self, entry: Waiting, held: Sequence[Occupancy]) -> Occupancy | None:
        """The hold `entry` would take beside `held` (None: it does not fit, or cannot be
        offered: the start is too near or past, closed, or the service takes no bookings)."""
        service = self.services.get(entry.service_id)
        if service is None or not service.active:
            return None
        if entry.start < self.now + self.calendar.policy.min_notice:
            return None
        if not is_open_for(self.calendar, entry.start, entry.end):
            return None
        if service.requirement is None:
            pooled = [o for o in held if not o.resources]  # resource bookings take no place
            seats = {**self.seats_of, entry.service_id: service.seats}
            shape = entry.shape(service.seats)
            free = seats_left(self.calendar.capacity, shape, entry.start, pooled, seats)
            return entry.occupancy() if free > 0 else None
        return self._with_resources(entry, service.requirement, held)

    def _with_resources(
        self, entry: Waiting, requirement: Requirement, held: Sequence[Occupancy]
    ) -> Occupancy | None:
        tz = self.calendar.timezone
        lo, hi = entry.occupied_start, entry.occupied_end
        groups = free_groups(
            requirement, self.resources, tz, lo, hi, holds_of(held), entry.resource_id
        )
        if resource_seats_left(groups) <= 0:
            return None
        counts = bookings_per_resource(held, tz, entry.start.astimezone(tz).date())
        return entry.occupancy(tuple(r.id for r in choose(groups, counts)))

    def reserve(self, line: Sequence[Waiting], held: Sequence[Occupancy]) -> list[Occupancy]:
        """The seats the line takes first: each entry in turn that fits beside what is held
        and what the entries before it took."""
        taken, reserved = list(held), []
        for entry in line:
            got = self.fit(entry, taken)
            if got is not None:
                reserved.append(got)
                taken.append(got)
        return reserved


def would_fit(line: Line, wanted: Waiting, held: Sequence[Occupancy]) -> bool:
    """Whether a booking like `wanted` could be placed now (the line's reservations counted)."""
    return line.fit(wanted, held) is not None


def without(held: Iterable[Occupancy], ignored: Iterable[UUID]) -> list[Occupancy]:
    gone = set(ignored)
    return [o for o in held if o.booking_id not in gone]


def named(occupancy: Occupancy, entry_id: UUID) -> Occupancy:
    return replace(occupancy, booking_id=entry_id)
