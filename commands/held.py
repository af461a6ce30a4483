"""What a business holds at given times, read from its DayAllocation aggregates.

The command side must not read read models, and it need not: the allocations of
a business's UTC days hold every live booking's occupancy. Asking is bounded by
the range the change can touch (a closure's own span; for hours, time zone and
capacity, from now to the furthest a booking can start, see
`Business.booking_horizon_days`), and no allocation is opened by asking.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from commands.base import Handlers
from domain.affected import STILL_TO_SERVE, affected_view
from domain.allocation import DayAllocation
from domain.booking import Booking
from domain.business import Business
from domain.service import Service
from domain.slots import Occupancy, allocation_days


class HeldBookings(Handlers):
    def held_between(self, business_id: UUID, lo: datetime, hi: datetime) -> list[Occupancy]:
        """Occupancies whose appointment ends after `lo` in the allocations of [lo, hi)."""
        if hi <= lo:
            return []
        found: dict[UUID, Occupancy] = {}
        for day in allocation_days(lo, hi):
            allocation_id = DayAllocation.create_id(business_id, day)
            allocation = self.load_or_none(DayAllocation, allocation_id, fresh=True)
            if allocation is not None:
                found.update((o.booking_id, o) for o in allocation.held.values() if o.end > lo)
        return sorted(found.values(), key=lambda o: (o.start, str(o.booking_id)))

    def held_ahead(
        self, business: Business, lo: datetime | None = None, hi: datetime | None = None
    ) -> list[Occupancy]:
        """Occupancies in [lo, hi) within now .. the furthest a booking of `business` can start
        (no booking starts later, so a closure of years costs no more than the horizon)."""
        now = self.clock()
        horizon = now + timedelta(days=business.booking_horizon_days() + 1)
        lo = now if lo is None else max(lo, now)
        hi = horizon if hi is None else min(hi, horizon)
        return self.held_between(business.id, lo, hi)

    def still_to_serve(self, held: Iterable[Occupancy]) -> list[Booking]:
        """The bookings of `held` that are still to be served (not completed, not no-shows)."""
        bookings = (self.load_or_none(Booking, o.booking_id, fresh=True) for o in held)
        return [b for b in bookings if b is not None and b.status in STILL_TO_SERVE]

    def seats_of_held(self, held: Iterable[Occupancy]) -> dict[UUID, int]:
        """Seats of each service held: whether its bookings share occurrences."""
        services = (
            self.load_or_none(Service, s, read_only=True) for s in {o.service_id for o in held}
        )
        return {s.id: s.seats for s in services if s is not None}


def views(bookings: Iterable[Booking]) -> list[dict[str, object]]:
    return [affected_view(b) for b in bookings]
