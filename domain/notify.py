"""A business's notification settings: who hears about bookings, and when reminders go out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput

LOCALES = ("en", "de")
MAX_REMINDERS = 5
MAX_REMINDER_OFFSET = timedelta(days=30)
MAX_OFFER_MINUTES = 24 * 60
# The part of ISO 8601 durations a reminder offset needs: weeks, days, hours, minutes.
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def parse_offset(text: str) -> timedelta:
    """'P1D' -> 1 day, 'PT2H' -> 2 hours; InvalidInput naming the field otherwise."""
    found = _DURATION.fullmatch(text)
    if found is None or text in ("P", "PT") or text.endswith("T"):
        raise InvalidInput(
            f"{text!r} is not an ISO 8601 duration like P1D or PT2H", field="reminders"
        )
    weeks, days, hours, minutes = (int(part or 0) for part in found.groups())
    offset = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    if not timedelta(minutes=1) <= offset <= MAX_REMINDER_OFFSET:
        raise InvalidInput(
            "a reminder is between PT1M and P30D before the start", field="reminders"
        )
    return offset


@dataclass(frozen=True)
class NotificationSettings:
    """What a business set with PUT /v1/businesses/{id}/notifications (defaults: nothing)."""

    notify_email: str | None = None
    reminders: tuple[str, ...] = ()
    locale: str = "en"
    sms: bool = False
    waitlist_offer_minutes: int = 15
    offsets: tuple[timedelta, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.reminders) > MAX_REMINDERS:
            raise InvalidInput(f"at most {MAX_REMINDERS} reminders", field="reminders")
        offsets = tuple(parse_offset(r) for r in self.reminders)
        if len(set(offsets)) != len(offsets):
            raise InvalidInput("each reminder offset once", field="reminders")
        if self.locale not in LOCALES:
            raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", field="locale")
        if not 1 <= self.waitlist_offer_minutes <= MAX_OFFER_MINUTES:
            raise InvalidInput("waitlist_offer_minutes is 1..1440", field="waitlist_offer_minutes")
        object.__setattr__(self, "offsets", offsets)

    def as_event(self) -> dict[str, Any]:
        return {
            "notify_email": self.notify_email,
            "reminders": list(self.reminders),
            "locale": self.locale,
            "sms": self.sms,
            "waitlist_offer_minutes": self.waitlist_offer_minutes,
        }

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> NotificationSettings:
        return cls(
            data["notify_email"],
            tuple(data["reminders"]),
            data["locale"],
            data["sms"],
            data["waitlist_offer_minutes"],
        )


def reminder_moment(start: datetime, offset: str, zone: ZoneInfo) -> datetime:
    """When the reminder `offset` before `start` goes out: days and weeks count on the
    business's wall clock (P1D before 10:00 is 10:00 the day before, across DST too);
    hours and minutes are elapsed time."""
    found = _DURATION.fullmatch(offset)
    if found is None:
        raise InvalidInput(f"{offset!r} is not a reminder offset", field="reminders")
    weeks, days, hours, minutes = (int(part or 0) for part in found.groups())
    wall = start.astimezone(zone).replace(tzinfo=None) - timedelta(weeks=weeks, days=days)
    local = wall.replace(tzinfo=zone)
    # A wall time that does not exist (the spring gap) or exists twice resolves like
    # the calendar's own slots: through UTC, as zoneinfo reads it (fold=0).
    due = local.astimezone(UTC) - timedelta(hours=hours, minutes=minutes)
    return due
