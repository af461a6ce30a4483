"""Which bookings a change to a business would leave outside opening time or over capacity.

Pure rules over the occupancies the write side holds (DayAllocation), so the
command handlers decide with aggregates only, never with a read model. A
booking counts when the change moves it: inside opening time before and
outside after (a booking kept through an earlier closure is not flagged
again), or into an instant where more occurrences run than the new capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from uuid import UUID

from domain.booking import ACTIVE, Booking, BookingStatus
from domain.occurrences import occurrence_key, occurrences
from domain.slots import Calendar, Occupancy, _peak, open_intervals

# Bookings still to be served: completed ones are over, cancelled ones hold nothing.
STILL_TO_SERVE = ACTIVE - {BookingStatus.COMPLETED}


def is_open_for(calendar: Calendar, start: datetime, end: datetime) -> bool:
    """Does an appointment [start, end) lie in one open interval and outside every closure?"""
    day = start.astimezone(calendar.timezone).date()
    intervals = open_intervals(calendar, day - timedelta(days=1), day + timedelta(days=2))
    inside = any(s <= start and end <= e for s, e in intervals)
    return inside and not any(c.start < end and start < c.end for c in calendar.closures)


def left_outside(before: Calendar, after: Calendar, held: Iterable[Occupancy]) -> list[Occupancy]:
    """Occupancies whose appointment is open under `before` and not under `after`."""
    return [
        o
        for o in held
        if is_open_for(before, o.start, o.end) and not is_open_for(after, o.start, o.end)
    ]


def over_capacity(
    capacity: int, held: Iterable[Occupancy], seats_of: Mapping[UUID, int]
) -> list[Occupancy]:
    """Occupancies in an occurrence that runs at an instant with more than `capacity` running."""
    held = [o for o in held if not o.resources]  # resource bookings take no pooled place
    running = occurrences(held, seats_of)
    spans = [(o.occupied_start, o.occupied_end) for o in running.values()]
    crowded = {
        key
        for key, o in running.items()
        if _peak(spans, o.occupied_start, o.occupied_end) > capacity
    }
    return [o for o in held if occurrence_key(o, seats_of.get(o.service_id, 1)) in crowded]


def affected_view(booking: Booking) -> dict[str, object]:
    """What an answer lists of an affected booking."""
    return {
        "id": str(booking.id),
        "service_id": str(booking.service_id),
        "customer_id": booking.customer_id,
        "status": booking.status.value,
        "start": booking.start,
        "end": booking.end,
    }
