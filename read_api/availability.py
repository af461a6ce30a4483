"""Availability and utilization on the read side: read models fed to the shared slot engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice
from uuid import UUID

from sqlalchemy import Connection

from domain.business import calendar_of
from domain.errors import InvalidInput
from domain.service import shape_of
from domain.slots import (
    Calendar,
    Occupancy,
    Slot,
    available_slots,
    local_instant,
    offered_starts,
    open_intervals,
)
from read_api.queries import Row, list_held, require_dates, service_seats


def calendar_from(business: Row) -> Calendar:
    return calendar_of(
        business["timezone"],
        business["weekly"],
        business["closures"],
        business["capacity"],
        business["policy"],
    )


MAX_AVAILABILITY_DAYS = 62
MAX_SLOTS = 3000  # ~270 KB of JSON; a 15-minute grid open around the clock fills 31 days


def require_bounded(first: date, last: date) -> None:
    """At most MAX_AVAILABILITY_DAYS local dates, `to` not before `from`."""
    require_dates(first, last)
    if last < first:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if (last - first).days >= MAX_AVAILABILITY_DAYS:
        raise InvalidInput(f"ask for at most {MAX_AVAILABILITY_DAYS} days at once", field="to")


def slots_for(
    conn: Connection, business: Row, service: Row, first: date, last: date, now: datetime
) -> list[Slot]:
    """Bookable slots, or InvalidInput naming `to` when the range offers over MAX_SLOTS."""
    calendar = calendar_from(business)
    shape = shape_of(
        UUID(service["id"]),
        service["duration_minutes"],
        service["buffer_before_minutes"],
        service["buffer_after_minutes"],
        service["slot_interval_minutes"],
        service["seats"],
    )
    offered = offered_starts(calendar, shape, first, last, now)
    if sum(1 for _ in islice(offered, MAX_SLOTS + 1)) > MAX_SLOTS:
        raise InvalidInput(
            f"from..to offers more than {MAX_SLOTS} start times of this service; "
            "ask for fewer days",
            field="to",
        )
    lo = local_instant(calendar.timezone, first - timedelta(days=2), 0)
    hi = local_instant(calendar.timezone, last + timedelta(days=3), 0)
    held = [
        Occupancy(
            UUID(r["booking_id"]),
            UUID(r["service_id"]),
            r["start"],
            r["end"],
            r["occupied_start"],
            r["occupied_end"],
        )
        for r in list_held(conn, business["id"], lo, hi)
    ]
    seats = service_seats(conn, business["id"])
    return available_slots(calendar, shape, first, last, held, now, seats)


def open_minutes(calendar: Calendar, day: date) -> int:
    """Minutes the business is open on its local `day` (clipped to that day)."""
    day_start = local_instant(calendar.timezone, day, 0)
    day_end = local_instant(calendar.timezone, day + timedelta(days=1), 0)
    total = timedelta()
    for start, end in open_intervals(calendar, day, day):
        total += max(min(end, day_end) - max(start, day_start), timedelta())
    return int(total.total_seconds() // 60)
