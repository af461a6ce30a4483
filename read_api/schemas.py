"""Response bodies of the read API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Money(BaseModel):
    amount: str
    currency: str


class ClosurePublic(BaseModel):
    """Time off: no appointment may overlap [start, end)."""

    id: str
    start: datetime
    end: datetime
    reason: str


class ClosurePage(BaseModel):
    """One page of closures, by start then id; `next_cursor` is null on the last page."""

    items: list[ClosurePublic]
    next_cursor: str | None


class BusinessPublic(BaseModel):
    id: str
    name: str
    slug: str
    timezone: str
    capacity: int
    address: str | None = Field(description="where its appointments take place; null: not given")
    weekly: list[dict[str, str]]
    closures: list[ClosurePublic]
    policy: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class BusinessPage(BaseModel):
    """One page of businesses; `next_cursor` is null on the last page."""

    items: list[BusinessPublic]
    next_cursor: str | None


class ServicePublic(BaseModel):
    id: str
    business_id: str
    name: str
    duration_minutes: int
    price: Money
    seats: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    active: bool
    version: int


class ResourceRef(BaseModel):
    id: str
    name: str
    category: str


class SlotPublic(BaseModel):
    start: datetime
    end: datetime
    seats_left: int
    resources: list[ResourceRef] | None = Field(
        default=None, description="the free resources, for a service that needs them"
    )


class Availability(BaseModel):
    service_id: str
    timezone: str
    slots: list[SlotPublic]


class PaymentPublic(BaseModel):
    """A booking's online payment; `note` says why it failed, waits or was refunded."""

    provider: str
    payment_intent_id: str | None
    status: str
    amount: Money
    refunded: Money
    note: str | None


class ContactPublic(BaseModel):
    name: str | None
    email: str | None
    phone: str | None
    locale: str | None


class BookingPublic(BaseModel):
    id: str
    business_id: str
    service_id: str
    customer_id: str
    placed_by: str
    start: datetime
    end: datetime
    local_date: date
    timezone: str
    status: str
    service_name: str
    price: Money
    contact: ContactPublic | None = Field(description="null when none was given, or erased")
    notes: str | None = Field(description="null when none were given, or erased")
    personal_data: Literal["present", "erased", "none", "sealed"] = Field(
        description="present: shown; erased: its key was deleted; none: never given; "
        "sealed: held, but not for this reader (auditors)"
    )
    cancel_reason: str | None
    hold_expires_at: datetime | None = None  # while a paid booking waits for its payment
    payment: PaymentPublic | None = None  # None: paid at the venue (or free)
    resources: list[ResourceRef] = Field(
        default_factory=list, description="held, named as they were when placed"
    )
    series_id: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class PersonalExport(BaseModel):
    """Everything held about one customer: their bookings with contact and notes."""

    customer_id: str
    bookings: list[BookingPublic]


class WaitlistEntryPublic(BaseModel):
    """A place in line for a full start, and the seat offered while the offer lasts."""

    id: str
    business_id: str
    service_id: str
    service_name: str
    customer_id: str
    start: datetime
    end: datetime
    timezone: str
    resource_id: str | None = Field(description="the one resource waited for, if any")
    status: Literal["waiting", "offered", "accepted", "declined", "left", "expired", "dropped"]
    offer_expires_at: datetime | None = Field(
        description="while offered: the seat is held until then (accept before it)"
    )
    resources: list[ResourceRef] = Field(description="the resources the offer holds")
    booking_id: str | None = Field(description="the booking an accepted offer became")
    joined_at: datetime


class WaitlistList(BaseModel):
    """One page of waitlist entries, by start then id; `next_cursor` is null on the last."""

    items: list[WaitlistEntryPublic]
    next_cursor: str | None


class BookingList(BaseModel):
    """One page of bookings, by start then id; `next_cursor` is null on the last page."""

    items: list[BookingPublic]
    next_cursor: str | None


class ServiceStats(BaseModel):
    """One service's figures in a period; utilization is of the business's capacity minutes."""

    service_id: str
    name: str
    bookings: int
    cancellations: int
    no_shows: int
    revenue: list[Money]
    captured: list[Money] = []
    refunded: list[Money] = []
    booked_minutes: int
    utilization: float


class ResourceStats(BaseModel):
    """One resource's figures in a period; utilization is of its own open minutes."""

    resource_id: str
    name: str
    category: str
    bookings: int
    cancellations: int
    no_shows: int
    revenue: list[Money]
    captured: list[Money] = []
    refunded: list[Money] = []
    booked_minutes: int
    open_minutes: int  # its hours within the business's, less closures and its time off
    utilization: float  # booked_minutes / open_minutes


Day = date  # the field `date` below hides the type inside the class


class PeriodStats(BaseModel):
    """One period: `period` is its first day (a Monday for weeks, the 1st for months)."""

    period: Day
    date: Day | None = None  # the same day, when grouped by day (as before `group` existed)
    bookings: int
    cancellations: int
    no_shows: int
    revenue: list[Money]
    captured: list[Money] = []  # paid online for the period's bookings
    refunded: list[Money] = []  # of that, given back
    booked_minutes: int
    open_minutes: int  # minutes the business is open (opening hours less closures)
    capacity_minutes: int  # open minutes times capacity: what can be booked
    utilization: float  # booked_minutes / capacity_minutes
    services: list[ServiceStats] | None = None  # with by=service
    resources: list[ResourceStats] | None = None  # with by=resource


class BusinessStats(BaseModel):
    business_id: str
    timezone: str
    group: str = "day"
    by: str | None = None
    periods: list[PeriodStats]
    days: list[PeriodStats]  # the periods again when grouped by day; empty otherwise


class AuditActor(BaseModel):
    id: str
    role: str


class AuditEvent(BaseModel):
    """One recorded event: its envelope's attributes, named for readers."""

    id: str
    aggregate_id: str
    aggregate_type: str
    position: int
    type: str
    version: int
    schema_version: int
    time: datetime
    timestamp: datetime
    data: dict[str, Any]
    actor: AuditActor
    correlation_id: str
    causation_id: str


class AuditEvents(BaseModel):
    aggregate_id: str
    events: list[AuditEvent]


class AuditLogEvent(AuditEvent):
    """An event of the whole log, with its link in the hash chain."""

    chain_hash: str | None


class AuditLogPage(BaseModel):
    items: list[AuditLogEvent]
    next_cursor: str | None


class AuditHead(BaseModel):
    """The last link of the hash chain: note it down, compare it later."""

    position: int
    chain_hash: str | None
    time: datetime | None


class AuditState(BaseModel):
    aggregate_id: str
    type: str
    version: int
    state: dict[str, Any]
