"""Small builders that keep the unit tests about behaviour, not setup."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from commands.app import SlotWise
from commands.messages import (
    CreateService,
    PlaceBooking,
    RegisterBusiness,
    SetHours,
    SetPolicy,
)
from domain.actor import Actor, Role
from domain.allocation import DayAllocation
from domain.booking import Booking
from domain.business import calendar_of
from domain.service import ServiceTerms, shape_of
from domain.slots import Calendar, Occupancy, ServiceShape, occupancy_for
from domain.values import WEEKDAYS, BookingPolicy, Money

NEW_YORK = ZoneInfo("America/New_York")
IN_MEMORY = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "TRANSCODER_TOPIC": "infra.transcoder:OrjsonTranscoder",
}
WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(*windows: tuple[str, str, str]) -> list[dict[str, str]]:
    """Weekly hours from (day, start, end) triples."""
    return [{"day": day, "start": start, "end": end} for day, start, end in windows]


def every_day(start: str, end: str, days: tuple[str, ...] = WEEKDAYS) -> list[dict[str, str]]:
    return hours(*((day, start, end) for day in days))


def closure(start: datetime, end: datetime, reason: str = "closed") -> dict[str, Any]:
    return {"start": start, "end": end, "reason": reason}


def calendar(
    timezone: str = "UTC",
    weekly: list[dict[str, str]] | None = None,
    closures: list[dict[str, Any]] | None = None,
    capacity: int = 1,
    **policy: Any,
) -> Calendar:
    """A Calendar built the way the Business aggregate builds it."""
    return calendar_of(
        timezone,
        weekly if weekly is not None else every_day("09:00", "17:00"),
        closures or [],
        capacity,
        policy,
    )


def service(
    duration: int,
    *,
    before: int = 0,
    after: int = 0,
    interval: int | None = None,
    seats: int = 1,
    service_id: UUID | None = None,
) -> ServiceShape:
    return shape_of(service_id or uuid4(), duration, before, after, interval or duration, seats)


def held(shape: ServiceShape, *starts: datetime) -> list[Occupancy]:
    """One booking of `shape` at each start."""
    return [occupancy_for(shape, uuid4(), start) for start in starts]


class Clock:
    """A settable clock for the application under test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def owner(name: str = "owner-1") -> Actor:
    return Actor(name, Role.OWNER)


def customer(name: str = "customer-1") -> Actor:
    return Actor(name, Role.CUSTOMER)


def open_salon(
    app: SlotWise,
    by: Actor,
    *,
    slug: str = "salon",
    timezone: str = "America/New_York",
    capacity: int = 1,
    weekly: list[dict[str, str]] | None = None,
    policy: BookingPolicy | None = None,
    duration: int = 60,
    seats: int = 1,
) -> tuple[UUID, UUID]:
    """Register a business with hours, a policy and one service; return both ids."""
    business_id = app.register_business(RegisterBusiness(by, "Salon", slug, timezone, capacity)).id
    app.set_hours(SetHours(by, business_id, weekly or every_day("09:00", "17:00", WEEKDAYS_ONLY)))
    if policy is not None:
        app.set_policy(SetPolicy(by, business_id, policy))
    terms = ServiceTerms("Haircut", duration, Money.of("30", "USD"), seats=seats)
    service_id = app.create_service(CreateService(by, business_id, terms)).id
    return business_id, service_id


ALICE, BOB = customer("alice"), customer("bob")
OWNER, RIVAL = owner(), owner("owner-2")
AUDITOR = Actor("auditor-1", Role.AUDITOR)


def new_york(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in New York in March 2027, as an API client would send it."""
    return datetime(2027, 3, day, hour, minute, tzinfo=NEW_YORK)


def book(app: SlotWise, by: Actor, service_id: UUID, start: datetime, **extra: Any) -> UUID:
    return app.place_booking(PlaceBooking(by, service_id, start, **extra)).id


def booking(app: SlotWise, booking_id: UUID) -> Booking:
    found: Booking = app.repository.get(booking_id)
    return found


def held_on(app: SlotWise, business_id: UUID, day: date) -> dict[UUID, Occupancy]:
    """What the business's allocation for UTC `day` holds, by booking id."""
    allocation = app.load_or_none(DayAllocation, DayAllocation.create_id(business_id, day))
    return dict(allocation.held) if allocation else {}
