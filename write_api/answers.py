"""What each command answers: id, version and consistency token, and the resource's main fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from infra.web.openapi import Problem
from write_api.schemas import CommandResult, PaymentStarted

BUSINESS_ID = "6f1c2a52-1f43-5d0e-9a4e-3c0d7b1e2f10"
TOKEN = "1042"
BUSINESS = {
    "name": "Studio Nord",
    "slug": "studio-nord",
    "timezone": "Europe/Berlin",
    "address": "Hafenstraße 12, 20359 Hamburg",
}


def example(**fields: Any) -> ConfigDict:
    body = {"id": BUSINESS_ID, "version": 3, "consistency_token": TOKEN, **fields}
    return ConfigDict(json_schema_extra={"examples": [body]})


class AffectedBooking(BaseModel):
    """A booking a change leaves outside opening time or over capacity (it stays as it is)."""

    id: UUID
    service_id: UUID
    customer_id: str
    status: str
    start: datetime
    end: datetime


AFFECTED: Any = Field(
    default_factory=list,
    description="bookings the change leaves outside opening time (or over capacity); kept "
    "only with keep_bookings, else the change is a 409 listing them",
)


class BusinessAnswer(CommandResult):
    model_config = example(**BUSINESS, capacity=2)

    name: str
    slug: str
    timezone: str
    capacity: int
    address: str | None = Field(
        default=None, description="where its appointments take place; null: not given"
    )


class ProfileAnswer(BusinessAnswer):
    model_config = example(**BUSINESS, capacity=2, affected_bookings=[])

    affected_bookings: list[AffectedBooking] = AFFECTED


class HoursAnswer(ProfileAnswer):
    model_config = example(
        **BUSINESS,
        capacity=1,
        weekly=[{"day": "mon", "start": "09:00", "end": "17:00"}],
        affected_bookings=[],
    )

    weekly: list[dict[str, str]]


class PolicyAnswer(BusinessAnswer):
    model_config = example(
        **BUSINESS,
        capacity=1,
        policy={
            "min_notice_minutes": 120,
            "max_advance_days": 90,
            "cancellation_deadline_hours": 24,
            "requires_confirmation": False,
        },
    )

    policy: dict[str, Any]


class ClosureAnswer(CommandResult):
    """`id` is the business's; `closure_id` the new closure's."""

    model_config = example(
        closure_id="a3e0f0a8-41f6-5c4c-8d0b-7f3b2b0c9e11",
        start="2027-03-09T23:00:00+00:00",
        end="2027-03-10T23:00:00+00:00",
        reason="training day",
        affected_bookings=[],
    )

    closure_id: UUID
    start: datetime
    end: datetime
    reason: str
    affected_bookings: list[AffectedBooking] = AFFECTED


class ClosureRemoval(CommandResult):
    model_config = example(closure_id="a3e0f0a8-41f6-5c4c-8d0b-7f3b2b0c9e11", closures_left=0)

    closure_id: UUID
    closures_left: int


class ServiceAnswer(CommandResult):
    model_config = example(business_id=BUSINESS_ID, name="Haircut", active=True)

    business_id: UUID
    name: str
    active: bool


class BookingAnswer(CommandResult):
    """A booking command's answer: the booking's status and times (the business's offset)."""

    model_config = example(
        status="confirmed", start="2027-03-08T10:00:00+01:00", end="2027-03-08T10:45:00+01:00"
    )

    status: str = Field(description="pending, confirmed, checked_in, completed, cancelled, ...")
    start: datetime
    end: datetime


class PaidBookingAnswer(BookingAnswer):
    """A booking's answer with, for a paid booking, the hold and the payment to make."""

    hold_expires_at: datetime | None = Field(
        default=None, description="a paid booking holds its slot until then"
    )
    payment: PaymentStarted | None = Field(default=None, description="absent when not paid online")


class WaitlistAnswer(CommandResult):
    """A waitlist command's answer: the entry's status and start (the business's offset),
    and, while it is offered, the seat it holds and until when."""

    model_config = example(
        status="waiting",
        service_id="0c6d3f1e-3a59-5b0e-8f0e-6b1f9e2b7d44",
        start="2027-03-08T10:00:00+01:00",
        end="2027-03-08T11:00:00+01:00",
        resource_id=None,
        offer_expires_at=None,
        resources=[],
        booking_id=None,
    )

    status: str = Field(description="waiting, offered, accepted, declined, left, expired, dropped")
    service_id: UUID
    start: datetime
    end: datetime
    resource_id: UUID | None
    offer_expires_at: datetime | None = Field(description="while offered: held until then")
    resources: list[dict[str, str]] = Field(description="what the offer holds")
    booking_id: UUID | None = Field(description="the booking an accepted offer became")


class ErasureAnswer(CommandResult):
    """An erasure's answer: whose data, and how many of their bookings now read erased."""

    model_config = example(customer_id="ann", personal_data="erased", bookings=3)

    customer_id: str
    personal_data: str = Field(description="always erased")
    bookings: int = Field(description="their bookings with personal data, as the reads show now")


class BookingsAffectedProblem(Problem):
    """A 409: `bookings-affected` lists the bookings the change would leave out."""

    affected_bookings: list[AffectedBooking] = Field(
        default_factory=list, description="with type bookings-affected: the bookings in the way"
    )
