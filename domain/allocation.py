"""DayAllocation: the consistency boundary that makes double booking impossible.

Each booking holds its occupied interval in the allocation of every UTC day the
interval touches. Two overlapping bookings always share at least one such day,
so saving both would write the same aggregate version twice: the event store's
optimistic concurrency refuses the second, which then retries and re-checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.line import Waiting
from domain.occurrences import services_sharing_a_start
from domain.slots import Occupancy, ServiceShape, occupancy_for, require_allocation

ALLOCATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/allocation")
NO_LINE: Mapping[UUID, Waiting] = MappingProxyType({})


class DayAllocation(Aggregate):
    """Every occupancy of one business touching one UTC day."""

    @event("Opened")
    def __init__(self, business_id: UUID, day: date) -> None:
        self.business_id = business_id
        self.day = day
        self.held: dict[UUID, Occupancy] = {}

    @staticmethod
    def create_id(business_id: UUID, day: date) -> UUID:
        return uuid5(ALLOCATION_NAMESPACE, f"{business_id}/{day.isoformat()}")

    class Held(Aggregate.Event):
        """v3 names the resources the booking holds (none before resources existed)."""

        booking_id: UUID
        service_id: UUID
        start: datetime
        end: datetime
        occupied_start: datetime
        occupied_end: datetime
        resource_ids: list[UUID]

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["resource_ids"] = []

    @event(Held)
    def hold(
        self,
        booking_id: UUID,
        service_id: UUID,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        resource_ids: list[UUID],
    ) -> None:
        self.held[booking_id] = Occupancy(
            booking_id,
            service_id,
            start,
            end,
            occupied_start,
            occupied_end,
            tuple(resource_ids),
        )

    # -- the line of entries waiting for a full start (domain.line) --------------------

    @property
    def waiting(self) -> Mapping[UUID, Waiting]:
        """The line. Reading it adds nothing to the day (it is snapshotted as it is): a day no
        entry has joined, or a snapshot taken before the waitlist existed, has none."""
        found: Mapping[UUID, Waiting] = self.__dict__.get("_waiting", NO_LINE)
        return found

    def _line(self) -> dict[UUID, Waiting]:
        """The line, to change (in an event's mutator)."""
        found: dict[UUID, Waiting] = self.__dict__.setdefault("_waiting", {})
        return found

    @property
    def last_seq(self) -> int:
        return int(self.__dict__.get("_last_seq", 0))

    @event("Queued")
    def queue(
        self,
        entry_id: UUID,
        service_id: UUID,
        customer_id: str,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        resource_id: UUID | None,
        seq: int,
    ) -> None:
        """An entry joins the line; `seq` is above every place given out on its days."""
        self._line()[entry_id] = Waiting(
            entry_id,
            service_id,
            customer_id,
            start,
            end,
            occupied_start,
            occupied_end,
            resource_id,
            seq,
        )
        self._last_seq = max(self.last_seq, seq)

    @event("OfferHeld")
    def hold_offer(self, entry_id: UUID, resource_ids: list[UUID]) -> None:
        """The entry's offer holds its seat (or resources) like a booking until it ends."""
        self.held[entry_id] = self.waiting[entry_id].occupancy(tuple(resource_ids))

    def unqueue(self, entry_id: UUID) -> None:
        """The entry leaves the line (accepted, declined, left, expired or dropped)."""
        if entry_id in self.waiting:
            self._unqueue(entry_id)

    @event("Unqueued")
    def _unqueue(self, entry_id: UUID) -> None:
        del self._line()[entry_id]
        self.held.pop(entry_id, None)

    @event("TimeOffMarked")
    def mark_time_off(self, resource_id: UUID, time_off_id: UUID) -> None:
        """Time off of a resource touches this day: a booking racing it must conflict here."""

    def release(self, booking_id: UUID) -> None:
        if booking_id in self.held:
            self._release(booking_id)

    @event("Released")
    def _release(self, booking_id: UUID) -> None:
        del self.held[booking_id]


def allocate(
    allocations: list[DayAllocation],
    capacity: int,
    service: ServiceShape,
    booking_id: UUID,
    start: datetime,
    seats_of: Mapping[UUID, int] | None = None,
    reserved: Sequence[Occupancy] = (),
    replacing: UUID | None = None,
) -> Occupancy:
    """Check capacity and seats across `allocations`, then hold the booking in each.

    `seats_of` gives the seats of the other services held there (see
    `held_services_to_look_up`); without it their bookings count one-to-one.
    `reserved`: the seats the line takes first (`domain.line`); `replacing`: the offer
    whose hold the booking takes over.
    """
    held = {o.booking_id: o for a in allocations for o in a.held.values() if not o.resources}
    held.pop(booking_id, None)  # a reschedule does not compete with itself
    if replacing is not None:
        held.pop(replacing, None)
    held.update((o.booking_id, o) for o in reserved if not o.resources)
    require_allocation(capacity, service, start, held.values(), seats_of)
    occupancy = occupancy_for(service, booking_id, start)
    for allocation in allocations:
        allocation.hold(
            booking_id,
            service.service_id,
            occupancy.start,
            occupancy.end,
            occupancy.occupied_start,
            occupancy.occupied_end,
            [],
        )
    return occupancy


def allocate_resources(
    allocations: list[DayAllocation],
    service: ServiceShape,
    booking_id: UUID,
    start: datetime,
    choose_from: Callable[[list[Occupancy]], tuple[UUID, ...]],
    reserved: Sequence[Occupancy] = (),
    replacing: UUID | None = None,
) -> Occupancy:
    """Hold the booking with the resources `choose_from` picks given what the days hold
    and the line reserved (resource bookings take no place in the capacity pool)."""
    held = {o.booking_id: o for a in allocations for o in a.held.values()}
    held.pop(booking_id, None)
    if replacing is not None:
        held.pop(replacing, None)
    held.update((o.booking_id, o) for o in reserved)
    chosen = choose_from(list(held.values()))
    occupancy = replace(occupancy_for(service, booking_id, start), resources=chosen)
    for allocation in allocations:
        allocation.hold(
            booking_id,
            service.service_id,
            occupancy.start,
            occupancy.end,
            occupancy.occupied_start,
            occupancy.occupied_end,
            list(chosen),
        )
    return occupancy


def held_services_to_look_up(allocations: list[DayAllocation], service: ServiceShape) -> set[UUID]:
    """Other services whose seats decide how their held bookings count against capacity.

    Allocations record occupancies, not seats: a service with several bookings
    at one start is either a group session (one occurrence) or one-to-one
    (one occurrence each), and only its seats tell which.
    """
    held = [o for a in allocations for o in a.held.values() if not o.resources]
    return services_sharing_a_start(held) - {service.service_id}
