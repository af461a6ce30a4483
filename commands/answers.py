"""The main fields of a resource that a command's answer shows next to id and version."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from domain.booking import Booking
from domain.business import Business
from domain.personal import ERASED, PersonalData
from domain.service import Service
from domain.waitlist import WaitlistEntry


def summary(aggregate: Any) -> dict[str, Any]:
    """A booking's status and times, a business's profile, a service's name and state."""
    if isinstance(aggregate, Booking):
        return booking_answer(aggregate)
    if isinstance(aggregate, Business):
        return {
            "name": aggregate.name,
            "slug": aggregate.slug,
            "timezone": aggregate.timezone,
            "capacity": aggregate.capacity,
            "address": aggregate.address,
        }
    if isinstance(aggregate, Service):
        return {
            "business_id": str(aggregate.business_id),
            "name": aggregate.name,
            "active": aggregate.active,
        }
    if isinstance(aggregate, WaitlistEntry):
        return entry_answer(aggregate)
    if isinstance(aggregate, PersonalData):
        return {"customer_id": aggregate.subject, "personal_data": ERASED}
    return {}


def booking_answer(booking: Booking) -> dict[str, Any]:
    """A booking's summary and the resources it holds (and its series, if any)."""
    zone = ZoneInfo(booking.timezone)  # the business's offset, as availability shows
    answer = {
        "status": booking.status.value,
        "start": booking.start.astimezone(zone),
        "end": booking.end.astimezone(zone),
        "resources": booking.held_resources(),
    }
    series_id = getattr(booking, "series_id", None)
    return answer if series_id is None else {**answer, "series_id": str(series_id)}


def entry_answer(entry: WaitlistEntry) -> dict[str, Any]:
    """A waitlist entry's status, start and end, and its offer while it lasts."""
    return entry.view()


def closure_view(closure: dict[str, Any]) -> dict[str, Any]:
    """A closure as answers show it: `closure_id`, `start`, `end`, `reason`."""
    return {
        "closure_id": str(closure["id"]),
        "start": closure["start"],
        "end": closure["end"],
        "reason": closure["reason"],
    }
