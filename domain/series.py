"""Recurring series: every N days or weeks at the same local wall-clock time.

A series is a Series aggregate naming its bookings; each occurrence is an
ordinary Booking with the series' id. Starts are computed in the business's
zone, so 09:00 stays 09:00 local across DST changes (a wall time that does not
exist that day resolves forward, as slots do).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import InvalidInput

MAX_OCCURRENCES = 52
MODES = ("all_or_nothing", "skip_conflicts")
_EVERY = re.compile(r"^P(?:(\d{1,3})W|(\d{1,3})D)$")


def repeat_step(every: str) -> timedelta:
    """The local-calendar step of `every` ("P1D", "P1W", "P2W", ...): whole days or weeks."""
    match = _EVERY.fullmatch(every)
    if not match or int(match[1] or match[2]) == 0:
        raise InvalidInput(
            'repeat.every is an ISO 8601 duration of whole days or weeks, e.g. "P1W"',
            field="repeat.every",
        )
    return timedelta(weeks=int(match[1])) if match[1] else timedelta(days=int(match[2]))


def occurrence_starts(first: datetime, tz: ZoneInfo, step: timedelta, count: int) -> list[datetime]:
    """`count` UTC starts at the local wall-clock time of `first`, `step` local days apart."""
    if not 1 <= count <= MAX_OCCURRENCES:
        raise InvalidInput(
            f"repeat.count must be between 1 and {MAX_OCCURRENCES}", field="repeat.count"
        )
    wall = first.astimezone(tz).replace(tzinfo=None)
    starts = []
    for n in range(count):
        # A skipped wall time (spring forward) resolves forward; a repeated one, first.
        starts.append((wall + step * n).replace(tzinfo=tz).astimezone(UTC))
    return starts


class Series(Aggregate):
    """A recurring booking: which bookings it placed, at which starts."""

    @event("Placed")
    def __init__(
        self,
        id: UUID,
        business_id: UUID,
        service_id: UUID,
        customer_id: str,
        every: str,
        count: int,
        mode: str,
        booking_ids: list[UUID],
        skipped: list[dict[str, str]],
    ) -> None:
        self.business_id = business_id
        self.service_id = service_id
        self.customer_id = customer_id
        self.every = every
        self.count = count
        self.mode = mode
        self.booking_ids = booking_ids
        self.skipped = skipped
