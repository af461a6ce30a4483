"""Occurrences: what takes one of a business's places at a time.

A one-seat service books one-to-one appointments, each booking its own
occurrence; a service with more seats runs group sessions whose bookings at one
start share one occurrence. Allocations remember bookings, not seats, so the
seats of each service decide how its held bookings group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from domain.slots import Occupancy


@dataclass(frozen=True)
class Occurrence:
    """What takes one of the business's places: an appointment, or a group session."""

    occupied_start: datetime
    occupied_end: datetime
    bookings: int


OccurrenceKey = UUID | tuple[UUID, datetime]


def occurrence_key(occupancy: Occupancy, seats: int) -> OccurrenceKey:
    """A group session's bookings at one start share it; a one-to-one booking is its own."""
    return occupancy.occurrence if seats > 1 else occupancy.booking_id


def occurrences(
    held: Iterable[Occupancy], seats_of: Mapping[UUID, int]
) -> dict[OccurrenceKey, Occurrence]:
    """The occurrences the held bookings make up.

    A service missing from `seats_of` counts as one-to-one: each of its
    bookings is then its own occurrence, which can only overstate what runs.
    """
    found: dict[OccurrenceKey, Occurrence] = {}
    for occupancy in held:
        key = occurrence_key(occupancy, seats_of.get(occupancy.service_id, 1))
        known = found.get(key)
        if known is None:
            found[key] = Occurrence(occupancy.occupied_start, occupancy.occupied_end, 1)
        else:  # buffers may have changed between bookings: keep the widest span
            found[key] = Occurrence(
                min(known.occupied_start, occupancy.occupied_start),
                max(known.occupied_end, occupancy.occupied_end),
                known.bookings + 1,
            )
    return found


def services_sharing_a_start(held: Iterable[Occupancy]) -> set[UUID]:
    """Services with several bookings at one start: only their seats decide what runs."""
    starts = Counter(o.occurrence for o in {o.booking_id: o for o in held}.values())
    return {service_id for (service_id, _), n in starts.items() if n > 1}
