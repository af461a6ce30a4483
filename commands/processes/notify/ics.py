"""RFC 5545 calendars of bookings (icalendar): invitations, cancellations and feeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//SlotWise//Bookings//EN"


@dataclass(frozen=True)
class CalendarEntry:
    """One booking as a calendar shows it."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    cancelled: bool = False
    stamp: datetime | None = None
    location: str | None = None  # where it takes place: the business and its address


def calendar(entries: Iterable[CalendarEntry], timezone: str, method: str | None) -> bytes:
    """A VCALENDAR with one VEVENT per entry, local times and the zone's VTIMEZONE."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method is not None:
        cal.add("method", method)
    zone = ZoneInfo(timezone)
    for entry in entries:
        cal.add_component(_event(entry, zone))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(entry: CalendarEntry, zone: ZoneInfo) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", entry.stamp or entry.start)
    event.add("dtstart", entry.start.astimezone(zone))
    event.add("dtend", entry.end.astimezone(zone))
    event.add("summary", entry.summary)
    if entry.location:
        event.add("location", entry.location)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event


def location(name: str, address: str | None) -> str | None:
    """A calendar entry's LOCATION: the business and its address on one line (None: none)."""
    if not address:
        return None
    return ", ".join([name, *(line.strip() for line in address.splitlines() if line.strip())])
