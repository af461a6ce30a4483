"""Seats left at many starts in one sweep over the occurrences they might meet.

`slots.seats_left` answers for one start by counting every occurrence against
it; a week of a 15-minute grid against a busy day made that starts times bookings.
Here the occurrences become one step function of how many run at each instant
(sorted once), and the starts, in order, slide a window of the service's
occupied length along it, keeping the window's peak in a monotonic queue: one
pass over both. The answers are exactly `seats_left`'s (a property test holds
the two together).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from domain.occurrences import Occurrence, OccurrenceKey
from domain.slots import ServiceShape, Slot


def running_counts(
    occurrences: Iterable[Occurrence],
) -> tuple[list[datetime], list[int]]:
    """How many occurrences run from each change point until the next one."""
    steps: dict[datetime, int] = {}
    for o in occurrences:
        if o.occupied_start < o.occupied_end:
            steps[o.occupied_start] = steps.get(o.occupied_start, 0) + 1
            steps[o.occupied_end] = steps.get(o.occupied_end, 0) - 1
    times = sorted(steps)
    counts, running = [], 0
    for at in times:
        running += steps[at]
        counts.append(running)
    return times, counts


def window_peaks(
    times: Sequence[datetime], counts: Sequence[int], windows: Iterable[tuple[datetime, datetime]]
) -> list[int]:
    """Most occurrences running at one instant of each [lo, hi); windows sorted by lo and hi."""
    peaks: list[int] = []
    best: deque[int] = deque()  # indices into counts, their counts decreasing
    covering = -1  # the last change point at or before lo
    added = 0  # change points before hi already offered to `best`
    for lo, hi in windows:
        while covering + 1 < len(times) and times[covering + 1] <= lo:
            covering += 1
        while added < len(times) and times[added] < hi:
            while best and counts[best[-1]] <= counts[added]:
                best.pop()
            best.append(added)
            added += 1
        while best and best[0] < covering:
            best.popleft()
        peaks.append(counts[best[0]] if best else 0)
    return peaks


def swept_seats(
    capacity: int,
    service: ServiceShape,
    starts: Iterable[datetime],
    running: Mapping[OccurrenceKey, Occurrence],
) -> dict[datetime, int]:
    """`seats_left` for every start, by one sweep (see the module's docstring)."""
    ordered = sorted(set(starts))
    times, counts = running_counts(running.values())
    length = service.buffer_before + service.duration + service.buffer_after
    windows = ((s - service.buffer_before, s - service.buffer_before + length) for s in ordered)
    left: dict[datetime, int] = {}
    for start, peak in zip(ordered, window_peaks(times, counts, windows), strict=True):
        session = running.get((service.service_id, start)) if service.seats > 1 else None
        if session is not None:  # joining a session that fits
            left[start] = max(service.seats - session.bookings, 0)
            continue
        free = max(capacity - peak, 0)
        left[start] = (service.seats if free else 0) if service.seats > 1 else free
    return left


def swept_slots(
    capacity: int,
    service: ServiceShape,
    starts: Sequence[datetime],
    running: Mapping[OccurrenceKey, Occurrence],
) -> list[Slot]:
    """The starts (in their given order) that can take a booking, with their seats left."""
    left = swept_seats(capacity, service, starts, running)
    return [Slot(s, s + service.duration, left[s]) for s in starts if left[s] > 0]
