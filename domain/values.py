"""Value objects of the booking domain: money, opening hours, closures, policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.currencies import minor_units
from domain.errors import (
    InvalidClosure,
    InvalidHours,
    InvalidInput,
    InvalidMoney,
    InvalidTimezone,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
MINUTES_PER_DAY = 24 * 60
MAX_AMOUNT = Decimal("1e12")
NOT_IANA = frozenset({"localtime", "posixrules", "Factory"})  # host-dependent entries
POLICY_LIMITS = {
    "min_notice_minutes": 525_600,
    "max_advance_days": 3650,
    "cancellation_deadline_hours": 8760,
}


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or InvalidTimezone."""
    if name not in _known_zones() or name in NOT_IANA:
        raise InvalidTimezone(f"unknown IANA time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimezone(f"unknown IANA time zone {name!r}", field="timezone") from None


_ZONES: set[str] = set()


def _known_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def require_aware(moment: datetime, field: str) -> datetime:
    """`moment` in UTC; naive datetimes are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", field=field)
    try:
        return moment.astimezone(ZoneInfo("UTC"))
    except OverflowError:
        raise InvalidInput(f"{field} is out of range", field=field) from None


@dataclass(frozen=True)
class Money:
    """A decimal amount in an ISO 4217 currency."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | str, currency: str) -> Money:
        """A validated price: a known currency, and no finer than its minor unit."""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise InvalidMoney(f"amount {amount!r} is not a decimal", field="price") from None
        if not value.is_finite() or value < 0:
            raise InvalidMoney("price amount must be zero or positive", field="price.amount")
        if value >= MAX_AMOUNT:
            raise InvalidMoney(f"price amount must be below {MAX_AMOUNT}", field="price.amount")
        units = minor_units(currency, field="price.currency")
        if value.as_tuple().exponent < -units:  # type: ignore[operator]
            places = f"at most {units} decimals" if units else "no decimals"
            raise InvalidMoney(f"price amounts in {currency} take {places}", field="price.amount")
        quantum = Decimal(1).scaleb(-units)
        return cls(abs(value).quantize(quantum), currency)  # abs: no "-0.00"

    def as_dict(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}


def clock_minutes(text: str, field: str) -> int:
    """Minutes after local midnight for 'HH:MM' (00:00 to 24:00)."""
    match = _CLOCK.fullmatch(text)
    if not match:
        raise InvalidHours(f"{text!r} is not a HH:MM time", field=field)
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise InvalidHours(f"{text!r} is not a time of day", field=field)
    return hours * 60 + minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningWindow:
    """Open on `day` from `start` to `end`, in minutes after local midnight."""

    day: int
    start: int
    end: int

    @classmethod
    def parse(cls, raw: dict[str, Any], index: int) -> OpeningWindow:
        day = raw.get("day")
        if day not in WEEKDAYS:
            raise InvalidHours(
                f"day must be one of {', '.join(WEEKDAYS)}", field=f"weekly[{index}].day"
            )
        start = clock_minutes(str(raw.get("start")), f"weekly[{index}].start")
        end = clock_minutes(str(raw.get("end")), f"weekly[{index}].end")
        if end <= start:
            raise InvalidHours(
                "end must be after start (close at 24:00 and reopen at 00:00 the next day "
                "for overnight hours)",
                field=f"weekly[{index}].end",
            )
        return cls(WEEKDAYS.index(str(day)), start, end)

    def as_dict(self) -> dict[str, str]:
        return {
            "day": WEEKDAYS[self.day],
            "start": format_minutes(self.start),
            "end": format_minutes(self.end),
        }


def parse_weekly(raw: list[dict[str, Any]]) -> tuple[OpeningWindow, ...]:
    """Validated, sorted weekly hours; overlapping windows on one day are refused."""
    windows = sorted(
        (OpeningWindow.parse(item, i) for i, item in enumerate(raw)),
        key=lambda w: (w.day, w.start),
    )
    for before, after in pairwise(windows):
        if before.day == after.day and after.start < before.end:
            raise InvalidHours(f"windows overlap on {WEEKDAYS[before.day]}", field="weekly")
    return tuple(windows)


@dataclass(frozen=True)
class Closure:
    """Time off: no appointment may overlap [start, end)."""

    start: datetime
    end: datetime
    reason: str

    @classmethod
    def of(cls, start: datetime, end: datetime, reason: str) -> Closure:
        start = require_aware(start, "start")
        end = require_aware(end, "end")
        if end <= start:
            raise InvalidClosure("end must be after start", field="end")
        return cls(start, end, reason)


@dataclass(frozen=True)
class BookingPolicy:
    """How far ahead and how late customers may book and cancel."""

    min_notice_minutes: int = 0
    max_advance_days: int = 365
    cancellation_deadline_hours: int = 0
    requires_confirmation: bool = False

    def __post_init__(self) -> None:
        for name, most in POLICY_LIMITS.items():
            if not 0 <= getattr(self, name) <= most:
                raise InvalidInput(f"{name} must be between 0 and {most}", field=name)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def max_advance(self) -> timedelta:
        return timedelta(days=self.max_advance_days)

    @property
    def cancellation_deadline(self) -> timedelta:
        return timedelta(hours=self.cancellation_deadline_hours)
