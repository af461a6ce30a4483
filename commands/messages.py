"""Commands: plain requests to change state, each carrying who asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.service import ServiceTerms
from domain.values import BookingPolicy


@dataclass(frozen=True)
class RegisterBusiness:
    actor: Actor
    name: str
    slug: str
    timezone: str
    capacity: int = 1


@dataclass(frozen=True)
class SetHours:
    actor: Actor
    business_id: UUID
    weekly: list[dict[str, Any]]


@dataclass(frozen=True)
class AddClosure:
    actor: Actor
    business_id: UUID
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class SetPolicy:
    actor: Actor
    business_id: UUID
    policy: BookingPolicy


@dataclass(frozen=True)
class CreateService:
    actor: Actor
    business_id: UUID
    terms: ServiceTerms


@dataclass(frozen=True)
class UpdateService:
    actor: Actor
    service_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeactivateService:
    actor: Actor
    service_id: UUID


@dataclass(frozen=True)
class PlaceBooking:
    actor: Actor
    service_id: UUID
    start: datetime
    notes: str = ""
    customer_id: str | None = None


@dataclass(frozen=True)
class RescheduleBooking:
    actor: Actor
    booking_id: UUID
    start: datetime


@dataclass(frozen=True)
class CancelBooking:
    actor: Actor
    booking_id: UUID
    reason: str = ""


@dataclass(frozen=True)
class ChangeBookingStatus:
    """confirm, check_in, complete or mark_no_show: staff moves a booking along."""

    actor: Actor
    booking_id: UUID
    action: str


@dataclass(frozen=True)
class Done:
    """What a successful command reports: the aggregate, its version, the log position."""

    id: UUID
    version: int
    position: int
