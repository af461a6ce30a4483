"""Availability and utilization on the read side: read models fed to the shared slot engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection

from domain.business import calendar_of
from domain.errors import InvalidInput
from domain.occurrences import occurrences
from domain.resources import Requirement, resource_calendar, resource_slots
from domain.service import MAX_MINUTES, shape_of
from domain.slots import (
    Calendar,
    Occupancy,
    ServiceShape,
    Slot,
    candidate_starts,
    local_instant,
    open_intervals,
)
from domain.sweep import swept_slots
from read_api.line import reserved_for_line
from read_api.queries import Row, list_held, require_dates, service_seats
from read_api.resource_queries import (
    list_resources,
    resource_booking_ids,
    resource_holds_between,
    service_requirement,
)

MAX_AVAILABILITY_DAYS = 62
MAX_SLOTS = 3000  # ~270 KB of JSON; a 15-minute grid open around the clock fills 31 days
# The longest time one booking can hold: duration and both buffers at their maximum.
LONGEST_HOLD = timedelta(minutes=3 * MAX_MINUTES)


def calendar_from(business: Row) -> Calendar:
    return calendar_of(
        business["timezone"],
        business["weekly"],
        business["closures"],
        business["capacity"],
        business["policy"],
    )


def shape_from(service: Row) -> ServiceShape:
    return shape_of(
        UUID(service["id"]),
        service["duration_minutes"],
        service["buffer_before_minutes"],
        service["buffer_after_minutes"],
        service["slot_interval_minutes"],
        service["seats"],
    )


def require_bounded(first: date, last: date) -> None:
    """At most MAX_AVAILABILITY_DAYS local dates, `to` not before `from`."""
    require_dates(first, last)
    if last < first:
        raise InvalidInput("'to' must not be before 'from'", field="to")
    if (last - first).days >= MAX_AVAILABILITY_DAYS:
        raise InvalidInput(f"ask for at most {MAX_AVAILABILITY_DAYS} days at once", field="to")


@dataclass(frozen=True)
class Offer:
    """Bookable slots as seen at `now`, and the instant before which they stay the same."""

    slots: list[Slot]
    until: datetime


def offered_until(
    calendar: Calendar, service: ServiceShape, first: date, last: date, now: datetime
) -> tuple[list[datetime], datetime]:
    """The policy's starts from `now`, and the first instant the policy window changes them.

    InvalidInput naming `to` when the range offers over MAX_SLOTS (stopping there,
    so a huge grid costs no more than the refusal).
    """
    min_notice, max_advance = calendar.policy.min_notice, calendar.policy.max_advance
    earliest, latest = now + min_notice, now + max_advance
    offered: list[datetime] = []
    until = datetime.max.replace(tzinfo=now.tzinfo)
    for start in candidate_starts(calendar, service, first, last):
        if start > latest:  # offered once `now` reaches start - max_advance
            until = min(until, start - max_advance)
        elif start >= earliest:  # no longer offered once `now` passes start - min_notice
            offered.append(start)
            until = min(until, start - min_notice)
            if len(offered) > MAX_SLOTS:
                raise InvalidInput(
                    f"from..to offers more than {MAX_SLOTS} start times of this service; "
                    "ask for fewer days",
                    field="to",
                )
    return offered, until


def offer_for(
    conn: Connection,
    business: Row,
    service: Row,
    first: date,
    last: date,
    now: datetime,
    only: UUID | None = None,
) -> Offer:
    """Bookable slots with their seats left: one sweep over the held bookings they meet."""
    calendar, shape = calendar_from(business), shape_from(service)
    starts, until = offered_until(calendar, shape, first, last, now)
    if not starts:
        return Offer([], until)
    requirement = service_requirement(conn, service["id"])
    # Only bookings whose held time meets an offered start's can change its seats.
    lo = min(starts) - shape.buffer_before
    hi = max(starts) + shape.duration + shape.buffer_after
    # Seats the waitlist's line claims first are taken for everyone else (domain.line).
    reserved = reserved_for_line(conn, business, lo, hi, LONGEST_HOLD, now)
    if reserved:  # a claim lapses once its start is within the minimum notice
        until = min(until, min(o.start for o in reserved) - calendar.policy.min_notice)
    if requirement is not None:
        slots = resource_offer(conn, business, requirement, shape, starts, only, reserved)
        return Offer(slots, until)
    ids: dict[str, UUID] = {}  # a business has few services: parse each id once
    held_by_resources = resource_booking_ids(conn, business["id"], lo, hi, LONGEST_HOLD)
    held = [  # resource bookings take no place in the capacity pool
        Occupancy(UUID(b), ids.get(s) or ids.setdefault(s, UUID(s)), t0, t1, t2, t3)
        for b, s, t0, t1, t2, t3 in list_held(conn, business["id"], lo, hi, LONGEST_HOLD)
        if b not in held_by_resources
    ]
    held += [o for o in reserved if not o.resources]
    seats = service_seats(conn, business["id"]) if held else {}
    return _swept(calendar, shape, starts, until, held, seats)


def offer(
    calendar: Calendar,
    shape: ServiceShape,
    first: date,
    last: date,
    held: Sequence[Occupancy],
    now: datetime,
    seats_of: Mapping[UUID, int],
) -> Offer:
    """What `domain.slots.available_slots` answers, by one sweep, and until when it holds."""
    starts, until = offered_until(calendar, shape, first, last, now)
    return _swept(calendar, shape, starts, until, held, seats_of)


def _swept(
    calendar: Calendar,
    shape: ServiceShape,
    starts: list[datetime],
    until: datetime,
    held: Sequence[Occupancy],
    seats_of: Mapping[UUID, int],
) -> Offer:
    running = occurrences(held, {**seats_of, shape.service_id: shape.seats})
    return Offer(swept_slots(calendar.capacity, shape, starts, running), until)


def resource_offer(
    conn: Connection,
    business: Row,
    requirement: Requirement,
    shape: ServiceShape,
    starts: list[datetime],
    only: UUID | None,
    reserved: Sequence[Occupancy] = (),
) -> list[Slot]:
    """Starts where some combination of the resources the service needs is free (the
    line's claims `reserved` counted as held)."""
    lo = min(starts) - shape.buffer_before
    hi = max(starts) + shape.duration + shape.buffer_after
    calendars = [
        resource_calendar(r, business["weekly"]) for r in list_resources(conn, business["id"])
    ]
    holds = resource_holds_between(conn, business["id"], lo, hi, LONGEST_HOLD)
    for claim in reserved:
        for resource_id in claim.resources:
            holds.setdefault(resource_id, []).append((claim.occupied_start, claim.occupied_end))
    tz = calendar_from(business).timezone
    return resource_slots(requirement, calendars, tz, shape, starts, holds, only)


def slots_for(
    conn: Connection, business: Row, service: Row, first: date, last: date, now: datetime
) -> list[Slot]:
    """Bookable slots, or InvalidInput naming `to` when the range offers over MAX_SLOTS."""
    return offer_for(conn, business, service, first, last, now).slots


def open_minutes(calendar: Calendar, day: date) -> int:
    """Minutes the business is open on its local `day` (clipped to that day)."""
    day_start = local_instant(calendar.timezone, day, 0)
    day_end = local_instant(calendar.timezone, day + timedelta(days=1), 0)
    total = timedelta()
    for start, end in open_intervals(calendar, day, day):
        total += max(min(end, day_end) - max(start, day_start), timedelta())
    return int(total.total_seconds() // 60)
