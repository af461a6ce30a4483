"""A single-process oracle of one business: hours, closures, capacity and booking states.

Plain Python, sharing no logic with the code under test: what the write side
should accept or refuse (by error class name) and which slots should be offered.
The business is in UTC and opens on two days at most from 09:00 to 12:00; its
services take 60 minutes, one seat, no buffers, so a slot is a day and an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from domain.booking import BookingStatus as S

DAYS = {"tue": date(2027, 3, 2), "wed": date(2027, 3, 3)}
SLOTS = tuple(f"{day} {hour:02d}:00" for day in DAYS for hour in (9, 10, 11))
WINDOWS: tuple[tuple[int, int] | None, ...] = ((9, 12), (10, 12), (9, 11), None)
HOLDING = frozenset({S.PENDING_PAYMENT, S.PENDING, S.CONFIRMED})
OK = "ok"

Window = tuple[int, int] | None
Span = tuple[datetime, datetime]


def instant(slot: str) -> datetime:
    day, clock = slot.split()
    return datetime.combine(DAYS[day], time(int(clock[:2])), UTC)


def slot_of(start: datetime) -> str:
    found = start.astimezone(UTC)
    day = next(name for name, d in DAYS.items() if d == found.date())
    return f"{day} {found.hour:02d}:00"


def weekly(windows: dict[str, Window]) -> list[dict[str, str]]:
    """The `weekly` hours of a SetHours command (days not listed are closed)."""
    return [
        {"day": day, "start": f"{w[0]:02d}:00", "end": f"{w[1]:02d}:00"}
        for day, w in windows.items()
        if w is not None
    ]


def is_open(slot: str, windows: dict[str, Window], closures: list[Span]) -> bool:
    window = windows[slot.split()[0]]
    start = instant(slot)
    end = start + timedelta(hours=1)
    inside = window is not None and window[0] <= start.hour and start.hour + 1 <= window[1]
    return inside and not any(lo < end and start < hi for lo, hi in closures)


@dataclass
class Oracle:
    capacity: int
    windows: dict[str, Window] = field(default_factory=lambda: dict.fromkeys(DAYS, (9, 12)))
    closures: list[Span] = field(default_factory=list)
    slots: dict[UUID, str] = field(default_factory=dict)
    status: dict[UUID, S] = field(default_factory=dict)

    def taken(self, slot: str, besides: UUID | None = None) -> int:
        return sum(
            1
            for b, s in self.slots.items()
            if s == slot and b != besides and self.status[b] in HOLDING
        )

    def offered(self) -> dict[str, int]:
        """Slots a customer can book, with the appointments that can still start there."""
        left = {s: self.capacity - self.taken(s) for s in SLOTS}
        return {s: n for s, n in left.items() if n > 0 and is_open(s, self.windows, self.closures)}

    def place(self, booking: UUID, slot: str, paid: bool) -> str:
        if not is_open(slot, self.windows, self.closures):
            return "StartNotOffered"
        if self.taken(slot) >= self.capacity:
            return "SlotUnavailable"
        self.slots[booking] = slot
        self.status[booking] = S.PENDING_PAYMENT if paid else S.PENDING
        return OK

    def move(self, booking: UUID, slot: str) -> str:
        if self.status[booking] not in HOLDING:
            return "IllegalTransition"
        if not is_open(slot, self.windows, self.closures):
            return "StartNotOffered"
        if self.taken(slot, besides=booking) >= self.capacity:
            return "SlotUnavailable"
        self.slots[booking] = slot
        return OK

    def end(self, booking: UUID, allowed: frozenset[S], to: S) -> str:
        """Cancel, confirm or expire: `to` if the booking is in one of `allowed`."""
        if self.status[booking] not in allowed:
            return "IllegalTransition"
        self.status[booking] = to
        return OK

    def change(self, windows: dict[str, Window], closures: list[Span], keep: bool) -> str:
        """New hours or closures: refused if they would leave a held booking outside them."""
        affected = [
            b
            for b, slot in self.slots.items()
            if self.status[b] in HOLDING
            and is_open(slot, self.windows, self.closures)
            and not is_open(slot, windows, closures)
        ]
        if affected and not keep:
            return "BookingsAffected"
        self.windows, self.closures = windows, closures
        return OK
