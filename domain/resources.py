"""Bookable resources (staff, rooms, equipment): which are free, and which one a booking gets.

Pure rules shared by the write side (placing, rescheduling) and the read side
(availability). A resource is free for an occupied interval when it is active,
the whole interval (buffers included) lies in one of its open intervals (its
own weekly hours, or the business's), no time off of it overlaps the interval,
and none of its holds does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput, SlotUnavailable
from domain.slots import Calendar, ServiceShape, Slot, local_instant, open_intervals
from domain.values import BookingPolicy, OpeningWindow, parse_weekly

KINDS = ("staff", "room", "equipment")
MAX_RESOURCE_IDS = 100
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class ResourceCalendar:
    """What one resource contributes to availability."""

    id: UUID
    name: str
    category: str
    active: bool
    weekly: tuple[OpeningWindow, ...]
    time_off: tuple[Span, ...]

    def view(self) -> dict[str, str]:
        return {"id": str(self.id), "name": self.name, "category": self.category}


@dataclass(frozen=True)
class Requirement:
    """One resource of `category` (or one of `resource_ids`), and one of each `also` category."""

    category: str | None
    resource_ids: tuple[UUID, ...]
    also: tuple[str, ...]

    @classmethod
    def of(cls, requires: Mapping[str, Any] | None, also: Iterable[str]) -> Requirement | None:
        """The requirement a service's stored `requires`/`also_requires` describe, if any."""
        if not requires:
            return None
        ids = tuple(UUID(str(i)) for i in requires.get("resource_ids") or ())
        return cls(requires.get("category"), ids, tuple(also))

    def groups(self, resources: Iterable[ResourceCalendar]) -> list[list[ResourceCalendar]]:
        """The candidates of each part, in order; a resource serves only the first part it fits,
        so the parts never share one (ordered by id within a part)."""
        ordered = sorted(resources, key=lambda r: str(r.id))
        first = [
            r
            for r in ordered
            if (r.id in self.resource_ids if self.resource_ids else r.category == self.category)
        ]
        taken = {r.id for r in first}
        parts = [first]
        for category in self.also:
            part = [r for r in ordered if r.category == category and r.id not in taken]
            taken.update(r.id for r in part)
            parts.append(part)
        return parts


def require_requirement(requires: Mapping[str, Any] | None, also: Sequence[str]) -> None:
    """InvalidInput naming the field unless `requires` names a category or a list of ids."""
    if requires is None:
        if also:
            raise InvalidInput("also_requires needs requires", field="also_requires")
        return
    keys = set(requires)
    if keys not in ({"category"}, {"resource_ids"}):
        raise InvalidInput(
            'requires is {"category": NAME} or {"resource_ids": [ID, ...]}', field="requires"
        )
    if "category" in keys:
        require_category(requires["category"], "requires.category")
    else:
        ids = requires["resource_ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_RESOURCE_IDS:
            raise InvalidInput(
                f"requires.resource_ids lists 1 to {MAX_RESOURCE_IDS} resource ids",
                field="requires.resource_ids",
            )
        for i in ids:
            try:
                UUID(str(i))
            except ValueError:
                detail = f"{i!r} is not a resource id"
                raise InvalidInput(detail, field="requires.resource_ids") from None
    for category in also:
        require_category(category, "also_requires")
    if len(set(also)) != len(also) or requires.get("category") in also:
        raise InvalidInput("each category is required once", field="also_requires")


def require_category(category: object, field: str) -> str:
    if not isinstance(category, str) or not 1 <= len(category.strip()) <= 100:
        raise InvalidInput(f"{field} must be a name of 1 to 100 characters", field=field)
    return category


def resource_calendar(raw: Mapping[str, Any], business_weekly: Sequence[Any]) -> ResourceCalendar:
    """A ResourceCalendar from the plain shape Business state and read models keep."""
    weekly = raw.get("weekly")
    return ResourceCalendar(
        id=UUID(str(raw["id"])),
        name=str(raw["name"]),
        category=str(raw["category"]),
        active=bool(raw["active"]),
        weekly=parse_weekly(list(business_weekly if weekly is None else weekly)),
        time_off=tuple(
            (_instant(t["start"]), _instant(t["end"])) for t in raw.get("time_off") or ()
        ),
    )


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _overlaps(spans: Iterable[Span], lo: datetime, hi: datetime) -> bool:
    return any(s < hi and lo < e for s, e in spans)


def is_open(resource: ResourceCalendar, tz: ZoneInfo, lo: datetime, hi: datetime) -> bool:
    """Does [lo, hi) lie in one of the resource's merged open intervals, outside its time off?"""
    day = lo.astimezone(tz).date()
    own = Calendar(tz, resource.weekly, (), 1, BookingPolicy())
    inside = any(s <= lo and hi <= e for s, e in _intervals(own, day))
    return inside and not _overlaps(resource.time_off, lo, hi)


def _intervals(calendar: Calendar, day: date) -> list[Span]:
    return open_intervals(calendar, day - timedelta(days=1), day + timedelta(days=2))


def free_groups(
    requirement: Requirement,
    resources: Iterable[ResourceCalendar],
    tz: ZoneInfo,
    lo: datetime,
    hi: datetime,
    holds: Mapping[UUID, Sequence[Span]],
    only: UUID | None = None,
) -> list[list[ResourceCalendar]]:
    """For each part of the requirement, its resources free for all of [lo, hi) (`only`: the
    first part is that resource or nothing)."""
    parts = requirement.groups(resources)
    if only is not None:
        parts[0] = [r for r in parts[0] if r.id == only]
    return [
        [
            r
            for r in part
            if r.active and is_open(r, tz, lo, hi) and not _overlaps(holds.get(r.id, ()), lo, hi)
        ]
        for part in parts
    ]


def seats_left(groups: Sequence[Sequence[ResourceCalendar]]) -> int:
    """How many bookings could start: the parts share no resource, so the scarcest decides."""
    return min((len(g) for g in groups), default=0)


def choose(
    groups: Sequence[Sequence[ResourceCalendar]], bookings_that_day: Mapping[UUID, int]
) -> tuple[ResourceCalendar, ...]:
    """One free resource of each part: the one with the fewest bookings that day, then by id."""
    if seats_left(groups) <= 0:
        raise SlotUnavailable(
            "no combination of the resources it needs is free then", field="start"
        )
    return tuple(min(g, key=lambda r: (bookings_that_day.get(r.id, 0), str(r.id))) for g in groups)


def holds_of(held: Iterable[Any]) -> dict[UUID, list[Span]]:
    """Each resource's held intervals (buffers included), from occupancies that name resources."""
    found: dict[UUID, list[Span]] = {}
    for o in held:
        for rid in o.resources:
            found.setdefault(rid, []).append((o.occupied_start, o.occupied_end))
    return found


def bookings_per_resource(held: Iterable[Any], tz: ZoneInfo, day: date) -> dict[UUID, int]:
    """How many bookings each resource has starting on the local `day`."""
    counts: dict[UUID, int] = {}
    for o in held:
        if o.start.astimezone(tz).date() == day:
            for rid in o.resources:
                counts[rid] = counts.get(rid, 0) + 1
    return counts


def resource_slots(
    requirement: Requirement,
    resources: Sequence[ResourceCalendar],
    tz: ZoneInfo,
    service: ServiceShape,
    starts: Sequence[datetime],
    holds: Mapping[UUID, Sequence[Span]],
    only: UUID | None = None,
) -> list[Slot]:
    """The starts where some combination of free resources exists, with how many bookings
    could start there and which resources are free (the starts in their given order).

    The same rule as `free_groups`, with each resource's open intervals worked out once
    for the whole range instead of once per start."""
    if not starts:
        return []
    first = min(starts).astimezone(tz).date()
    last = max(starts).astimezone(tz).date()
    parts = requirement.groups(resources)
    if only is not None:
        parts[0] = [r for r in parts[0] if r.id == only]
    opens = {
        r.id: _intervals_between(r, tz, first, last) for part in parts for r in part if r.active
    }
    slots = []
    for start in starts:
        lo = start - service.buffer_before
        hi = start + service.duration + service.buffer_after
        groups = [
            [
                r
                for r in part
                if r.id in opens
                and any(s <= lo and hi <= e for s, e in opens[r.id])
                and not _overlaps(r.time_off, lo, hi)
                and not _overlaps(holds.get(r.id, ()), lo, hi)
            ]
            for part in parts
        ]
        left = seats_left(groups)
        if left > 0:
            free = tuple(r.view() for g in groups for r in g)
            slots.append(Slot(start, start + service.duration, left, free))
    return slots


def _intervals_between(
    resource: ResourceCalendar, tz: ZoneInfo, first: date, last: date
) -> list[Span]:
    own = Calendar(tz, resource.weekly, (), 1, BookingPolicy())
    return open_intervals(own, first - timedelta(days=1), last + timedelta(days=2))


def open_spans(resource: ResourceCalendar, business: Calendar, day: date) -> list[Span]:
    """The resource's bookable time on the business's local `day`, by start: its own hours
    within the business's, less the business's closures and the resource's time off."""
    tz = business.timezone
    day_start = local_instant(tz, day, 0)
    day_end = local_instant(tz, day + timedelta(days=1), 0)
    spans = [
        (max(s, b, day_start), min(e, c, day_end))
        for s, e in _intervals(Calendar(tz, resource.weekly, (), 1, BookingPolicy()), day)
        for b, c in _intervals(business, day)
    ]
    off = [(c.start, c.end) for c in business.closures] + list(resource.time_off)
    for lo, hi in off:
        spans = [
            piece
            for s, e in spans
            for piece in ((s, min(e, lo)), (max(s, hi), e))
            if piece[0] < piece[1]
        ]
    return sorted(span for span in spans if span[0] < span[1])


def open_minutes(resource: ResourceCalendar, business: Calendar, day: date) -> int:
    """Minutes on the business's local `day` when the resource can be booked (`open_spans`)."""
    total = sum((e - s for s, e in open_spans(resource, business, day)), timedelta())
    return int(total.total_seconds() // 60)
