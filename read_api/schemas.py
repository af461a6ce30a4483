"""Response bodies of the read API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


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


class SlotPublic(BaseModel):
    start: datetime
    end: datetime
    seats_left: int


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
    notes: str
    cancel_reason: str | None
    hold_expires_at: datetime | None = None  # while a paid booking waits for its payment
    payment: PaymentPublic | None = None  # None: paid at the venue (or free)
    version: int
    created_at: datetime
    updated_at: datetime


class BookingList(BaseModel):
    """One page of bookings, by start then id; `next_cursor` is null on the last page."""

    items: list[BookingPublic]
    next_cursor: str | None


class DayStats(BaseModel):
    date: date
    bookings: int
    cancellations: int
    no_shows: int
    revenue: list[Money]
    captured: list[Money] = []  # paid online for the day's bookings
    refunded: list[Money] = []  # of that, given back
    booked_minutes: int
    open_minutes: int
    utilization: float


class BusinessStats(BaseModel):
    business_id: str
    timezone: str
    days: list[DayStats]


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
