"""Request and response bodies of the write API (pydantic); unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from domain.text import is_visible, unclean_character

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        # What no store or read model accepts (NUL, lone surrogates, controls) is refused here.
        if isinstance(value, str):
            problem = unclean_character(value)
            if problem is not None:
                raise ValueError(f"must not contain {problem}")
        return value


def visible(value: str | None) -> str | None:
    """A name must show something: not only spaces, byte-order marks or zero-width marks."""
    if value is not None and not is_visible(value):
        raise ValueError("must contain visible characters")
    return value


VisibleName = Annotated[str, AfterValidator(visible)]


class BusinessCreate(Strict):
    name: VisibleName = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=64, examples=["studio-nord"])
    timezone: str = Field(examples=["Europe/Berlin"], description="IANA time zone")
    capacity: int = Field(default=1, ge=1, le=1000, description="parallel appointments")


class OpeningHours(Strict):
    day: Weekday
    start: str = Field(examples=["09:00"], description="local HH:MM")
    end: str = Field(examples=["17:00"], description="local HH:MM, up to 24:00")


class HoursUpdate(Strict):
    weekly: list[OpeningHours] = Field(max_length=7 * 24)


class ClosureCreate(Strict):
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(default="", max_length=500)


class PolicyUpdate(Strict):
    min_notice_minutes: int = Field(default=0, ge=0, le=525_600)
    max_advance_days: int = Field(default=365, ge=0, le=3650)
    cancellation_deadline_hours: int = Field(default=0, ge=0, le=8760)
    requires_confirmation: bool = False


class MoneyIn(Strict):
    amount: Decimal = Field(examples=["50.00"], max_digits=14)
    currency: str = Field(examples=["EUR"], description="ISO 4217 code")


class ServiceCreate(Strict):
    name: VisibleName = Field(min_length=1, max_length=200)
    duration_minutes: int
    price: MoneyIn
    seats: int = 1
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    slot_interval_minutes: int | None = Field(default=None, description="defaults to duration")


class ServicePatch(Strict):
    """Only the fields sent change; null is allowed only for slot_interval_minutes."""

    name: VisibleName | None = Field(default=None, min_length=1, max_length=200)
    duration_minutes: int | None = None
    price: MoneyIn | None = None
    seats: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    slot_interval_minutes: int | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ServicePatch:
        for name in self.model_fields_set - {"slot_interval_minutes"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


class BookingCreate(Strict):
    service_id: UUID
    start: AwareDatetime
    notes: str = Field(default="", max_length=2000)
    customer_id: str | None = Field(
        default=None, max_length=200, description="only when staff books for a customer"
    )


class BookingCancel(Strict):
    reason: str = Field(default="", max_length=500)


class BookingReschedule(Strict):
    start: AwareDatetime


class PaymentsUpdate(Strict):
    """Take payment online (Stripe) for priced services; slots wait `hold_minutes` for it."""

    enabled: bool = Field(strict=True)
    hold_minutes: int = Field(default=15, ge=1, le=1440, strict=True)


class CommandResult(BaseModel):
    """What every successful command answers."""

    id: UUID
    version: int
    consistency_token: str


class MoneyOut(BaseModel):
    amount: str
    currency: str


class PaymentStarted(BaseModel):
    """A booking's online payment; confirm the intent with Stripe.js and `client_secret`."""

    provider: str
    payment_intent_id: str | None = Field(description="null while Stripe could not be reached")
    client_secret: str | None = Field(description="only while the booking waits for payment")
    amount: MoneyOut
    refunded: MoneyOut
    status: str = Field(description="requires_payment, succeeded, failed, canceled, ...")
    note: str | None = Field(description="why it failed, waits or was refunded")


class BookingResult(CommandResult):
    """A booking command's answer: its state, and for a paid booking the payment to make."""

    status: str
    start: datetime
    end: datetime
    hold_expires_at: datetime | None = Field(
        default=None, description="a paid booking holds its slot until then"
    )
    payment: PaymentStarted | None = Field(default=None, description="absent when not paid online")


class WebhookReceipt(BaseModel):
    received: bool
    recorded: bool = Field(description="false for events SlotWise does not act on")
    id: UUID | None = None
