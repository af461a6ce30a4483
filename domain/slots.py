"""The slot engine: pure functions that both the write side and the read side use.

Opening hours are local wall-clock times in the business's zone; every instant
here is an aware UTC datetime. Slots step through *elapsed* time from the start
of each open interval, so DST days get the right number of slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import SlotUnavailable, StartNotOffered, TooFarAhead, TooLittleNotice
from domain.occurrences import Occurrence, OccurrenceKey, occurrences
from domain.values import BookingPolicy, Closure, OpeningWindow


@dataclass(frozen=True)
class Calendar:
    """What a business contributes to availability."""

    timezone: ZoneInfo
    weekly: tuple[OpeningWindow, ...]
    closures: tuple[Closure, ...]
    capacity: int
    policy: BookingPolicy


@dataclass(frozen=True)
class ServiceShape:
    """What a service contributes to availability."""

    service_id: UUID
    duration: timedelta
    buffer_before: timedelta
    buffer_after: timedelta
    interval: timedelta
    seats: int


@dataclass(frozen=True)
class Occupancy:
    """One booking's hold on the business's time (buffers included)."""

    booking_id: UUID
    service_id: UUID
    start: datetime
    end: datetime
    occupied_start: datetime
    occupied_end: datetime
    resources: tuple[UUID, ...] = ()  # a booking of a service needing resources holds these

    @property
    def occurrence(self) -> tuple[UUID, datetime]:
        return (self.service_id, self.start)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    seats_left: int
    resources: tuple[dict[str, str], ...] = ()  # free then, for a service needing resources


def local_instant(tz: ZoneInfo, day: date, minutes: int) -> datetime:
    """UTC instant of `minutes` after local midnight on `day`.

    A wall time skipped by DST resolves forward (02:30 becomes 03:30 on a
    spring-forward day); a repeated one takes its first occurrence.
    """
    extra_day, minutes = divmod(minutes, 24 * 60)
    wall = datetime.combine(day + timedelta(days=extra_day), time(minutes // 60, minutes % 60))
    return wall.replace(tzinfo=tz).astimezone(UTC)


def open_intervals(calendar: Calendar, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Merged open intervals (UTC) of the local days first..last; abutting windows join."""
    intervals: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for window in calendar.weekly:
            if window.day == day.weekday():
                start = local_instant(calendar.timezone, day, window.start)
                end = local_instant(calendar.timezone, day, window.end)
                if end > start:
                    intervals.append((start, end))
        day += timedelta(days=1)
    intervals.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _closed(closures: Iterable[Closure], start: datetime, end: datetime) -> bool:
    return any(c.start < end and start < c.end for c in closures)


def candidate_starts(
    calendar: Calendar, service: ServiceShape, first: date, last: date
) -> Iterator[datetime]:
    """Every start the service offers whose local date is in first..last, ignoring bookings.

    Each opening window anchors its own grid, so the slots of a day never depend
    on which dates were asked for; an appointment may run on past the window's
    end into an abutting one (overnight), but not past the merged open interval.
    """
    merged = open_intervals(calendar, first - timedelta(days=1), last + timedelta(days=2))
    day = first
    while day <= last:
        for window in (w for w in calendar.weekly if w.day == day.weekday()):
            window_start = local_instant(calendar.timezone, day, window.start)
            window_end = local_instant(calendar.timezone, day, window.end)
            open_end = next((e for s, e in merged if s <= window_start < e), window_end)
            start = window_start
            while start < window_end:
                end = start + service.duration
                if end <= open_end and not _closed(calendar.closures, start, end):
                    yield start
                start += service.interval
        day += timedelta(days=1)


def is_candidate_start(calendar: Calendar, service: ServiceShape, start: datetime) -> bool:
    """Whether `candidate_starts` of `start`'s local date yields `start`, without listing them:
    on the grid of one of that date's windows, fitting the open interval, not closed."""
    day = start.astimezone(calendar.timezone).date()
    for window in (w for w in calendar.weekly if w.day == day.weekday()):
        window_start = local_instant(calendar.timezone, day, window.start)
        window_end = local_instant(calendar.timezone, day, window.end)
        if not window_start <= start < window_end:
            continue
        if (start - window_start) % service.interval:
            continue
        merged = open_intervals(calendar, day - timedelta(days=1), day + timedelta(days=2))
        open_end = next((e for s, e in merged if s <= window_start < e), window_end)
        end = start + service.duration
        if end <= open_end and not _closed(calendar.closures, start, end):
            return True
    return False


def occupancy_for(service: ServiceShape, booking_id: UUID, start: datetime) -> Occupancy:
    end = start + service.duration
    return Occupancy(
        booking_id=booking_id,
        service_id=service.service_id,
        start=start,
        end=end,
        occupied_start=start - service.buffer_before,
        occupied_end=end + service.buffer_after,
    )


def _peak(intervals: Sequence[tuple[datetime, datetime]], lo: datetime, hi: datetime) -> int:
    """Most intervals running at one instant within [lo, hi)."""
    edges: list[tuple[datetime, int]] = []
    for start, end in intervals:
        if start < hi and lo < end:
            edges.append((max(start, lo), 1))
            edges.append((min(end, hi), -1))
    edges.sort(key=lambda e: (e[0], e[1]))  # an ending frees its place before a start
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def seats_left(
    capacity: int,
    service: ServiceShape,
    start: datetime,
    held: Iterable[Occupancy],
    seats_of: Mapping[UUID, int] | None = None,
) -> int:
    """Bookings `start` can still take (0 = full or no capacity).

    For a one-to-one service that is how many more appointments could run in
    parallel; for a group session, the seats left in its occurrence at `start`,
    or all its seats when a new occurrence fits.
    """
    seats = {**(seats_of or {}), service.service_id: service.seats}
    return _seats_left_among(capacity, service, start, occurrences(held, seats))


def _seats_left_among(
    capacity: int,
    service: ServiceShape,
    start: datetime,
    running: Mapping[OccurrenceKey, Occurrence],
) -> int:
    wanted = occupancy_for(service, UUID(int=0), start)
    if service.seats > 1 and wanted.occurrence in running:  # joining a session that fits
        return max(service.seats - running[wanted.occurrence].bookings, 0)
    spans = [(o.occupied_start, o.occupied_end) for o in running.values()]
    free = max(capacity - _peak(spans, wanted.occupied_start, wanted.occupied_end), 0)
    if service.seats > 1:
        return service.seats if free else 0
    return free


def require_allocation(
    capacity: int,
    service: ServiceShape,
    start: datetime,
    held: Iterable[Occupancy],
    seats_of: Mapping[UUID, int] | None = None,
) -> None:
    """Raise SlotUnavailable unless one more booking at `start` keeps capacity and seats."""
    if seats_left(capacity, service, start, held, seats_of) <= 0:
        raise SlotUnavailable(
            f"the slot starting {start.isoformat()} is fully booked", field="start"
        )


def require_offered(
    calendar: Calendar, service: ServiceShape, start: datetime, now: datetime
) -> None:
    """Raise unless `start` is a slot the service offers under the business's policy."""
    if start < now + calendar.policy.min_notice:
        raise TooLittleNotice(
            f"bookings need {calendar.policy.min_notice_minutes} minutes' notice and "
            "cannot start in the past",
            field="start",
        )
    if start > now + calendar.policy.max_advance:
        raise TooFarAhead(
            f"bookings open at most {calendar.policy.max_advance_days} days ahead",
            field="start",
        )
    if not is_candidate_start(calendar, service, start):
        raise StartNotOffered(
            f"{start.isoformat()} is not a start time this service offers "
            "(outside opening hours, closed, or off the slot grid)",
            field="start",
        )


def offered_starts(
    calendar: Calendar, service: ServiceShape, first: date, last: date, now: datetime
) -> Iterator[datetime]:
    """Starts with local dates first..last that the policy lets customers book from `now`."""
    earliest = now + calendar.policy.min_notice
    latest = now + calendar.policy.max_advance
    for start in candidate_starts(calendar, service, first, last):
        if earliest <= start <= latest:
            yield start


def available_slots(
    calendar: Calendar,
    service: ServiceShape,
    first: date,
    last: date,
    held: Sequence[Occupancy],
    now: datetime,
    seats_of: Mapping[UUID, int] | None = None,
) -> list[Slot]:
    """Bookable slots with local dates first..last, given what is already held."""
    running = occurrences(held, {**(seats_of or {}), service.service_id: service.seats})
    slots = []
    for start in offered_starts(calendar, service, first, last, now):
        left = _seats_left_among(calendar.capacity, service, start, running)
        if left > 0:
            slots.append(Slot(start, start + service.duration, left))
    return slots


def allocation_days(occupied_start: datetime, occupied_end: datetime) -> list[date]:
    """UTC days an occupied interval touches; each has its own allocation aggregate."""
    first = occupied_start.astimezone(UTC).date()
    last = (occupied_end - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
