"""Request and response bodies of the write API (pydantic); unknown fields are refused.

Input is taken as sent, never coerced: integers and booleans must be JSON
integers and booleans ("2" and true are not a capacity), money amounts decimal
strings ("50.00", never a JSON number or " 1"), and times ISO 8601 strings with
an offset (never a Unix number).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.errors import InvalidInput
from domain.text import require_clean_text, require_visible

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ISO_INSTANT = re.compile(  # [0-9], not \d: no other scripts' digits
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


def _iso_instant(value: Any) -> Any:
    if not isinstance(value, str) or not _ISO_INSTANT.fullmatch(value):
        raise ValueError(
            "must be an ISO 8601 date and time with an offset, e.g. 2027-03-08T10:00:00+01:00"
        )
    return value


def _decimal_string(value: Any) -> Any:
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise ValueError('must be a decimal string such as "50.00" (not a JSON number)')
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
Amount = Annotated[Decimal, BeforeValidator(_decimal_string)]
VISIBLE = frozenset({"name", "customer_id"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: object, info: ValidationInfo) -> object:
        # NUL, controls and lone surrogates cannot be stored or shown everywhere.
        if isinstance(value, str):
            check = require_visible if info.field_name in VISIBLE else require_clean_text
            try:
                check(value, info.field_name or "value")
            except InvalidInput as error:
                raise ValueError(error.detail) from None
        return value


ADDRESS = (
    "where its appointments take place, as it should appear in emails and calendars (lines allowed)"
)
KEEP_BOOKINGS = (
    "true: make the change even if it leaves bookings outside opening time (or over "
    "capacity); the answer lists them either way"
)


class BusinessCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Studio Nord", "slug": "studio-nord", "timezone": "Europe/Berlin"}
            ]
        }
    )

    name: StrictStr = Field(min_length=1, max_length=200)
    slug: StrictStr = Field(min_length=1, max_length=64, examples=["studio-nord"])
    timezone: StrictStr = Field(examples=["Europe/Berlin"], description="IANA time zone")
    capacity: StrictInt = Field(
        default=1, ge=1, le=1000, description="appointments it can run in parallel"
    )
    address: StrictStr | None = Field(default=None, max_length=300, description=ADDRESS)


class BusinessPatch(Strict):
    """Only the fields sent change; send at least one of name, timezone, capacity, address."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Studio Nord & Co"}, {"capacity": 3}]}
    )

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    timezone: StrictStr | None = Field(default=None, examples=["Europe/Vienna"])
    capacity: StrictInt | None = Field(default=None, ge=1, le=1000)
    address: StrictStr | None = Field(
        default=None, max_length=300, description=ADDRESS + '; "" removes it'
    )
    keep_bookings: StrictBool = Field(default=False, description=KEEP_BOOKINGS)

    @model_validator(mode="after")
    def _something_to_change(self) -> BusinessPatch:
        _refuse_nulls(self, self.model_fields_set)
        if not self.model_fields_set & {"name", "timezone", "capacity", "address"}:
            raise ValueError("send at least one of name, timezone, capacity, address")
        return self


class OpeningHours(Strict):
    day: Weekday
    start: StrictStr = Field(examples=["09:00"], description="local HH:MM")
    end: StrictStr = Field(examples=["17:00"], description="local HH:MM, up to 24:00")


class HoursUpdate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "weekly": [
                        {"day": "mon", "start": "09:00", "end": "17:00"},
                        {"day": "tue", "start": "09:00", "end": "12:00"},
                    ]
                }
            ]
        }
    )

    weekly: list[OpeningHours] = Field(max_length=7 * 24)
    keep_bookings: StrictBool = Field(default=False, description=KEEP_BOOKINGS)


class ClosureCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2027-03-10T00:00:00+01:00",
                    "end": "2027-03-11T00:00:00+01:00",
                    "reason": "training day",
                }
            ]
        }
    )

    start: Instant
    end: Instant
    reason: StrictStr = Field(default="", max_length=500)
    keep_bookings: StrictBool = Field(default=False, description=KEEP_BOOKINGS)


MinNotice = Annotated[StrictInt, Field(ge=0, le=525_600, description="minutes before a start")]
MaxAdvance = Annotated[StrictInt, Field(ge=0, le=3650, description="days ahead bookings open")]
CancelDeadline = Annotated[
    StrictInt, Field(ge=0, le=8760, description="hours before a start customers may cancel")
]
POLICY_EXAMPLE: dict[str, Any] = {
    "min_notice_minutes": 120,
    "max_advance_days": 90,
    "cancellation_deadline_hours": 24,
    "requires_confirmation": False,
}


class PolicyUpdate(Strict):
    """The whole policy: every field is required (PATCH changes some)."""

    model_config = ConfigDict(json_schema_extra={"examples": [dict(POLICY_EXAMPLE)]})

    min_notice_minutes: MinNotice
    max_advance_days: MaxAdvance
    cancellation_deadline_hours: CancelDeadline
    requires_confirmation: StrictBool


class PolicyPatch(Strict):
    """Only the fields sent change; send at least one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"min_notice_minutes": 60}]})

    min_notice_minutes: MinNotice | None = None
    max_advance_days: MaxAdvance | None = None
    cancellation_deadline_hours: CancelDeadline | None = None
    requires_confirmation: StrictBool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> PolicyPatch:
        _refuse_nulls(self, self.model_fields_set)
        if not self.model_fields_set:
            raise ValueError(f"send at least one of {', '.join(POLICY_EXAMPLE)}")
        return self


def _refuse_nulls(model: BaseModel, names: set[str]) -> None:
    for name in names:
        if getattr(model, name) is None:
            raise ValueError(f"{name} must not be null")


class MoneyIn(Strict):
    amount: Amount = Field(
        examples=["50.00"],
        max_digits=14,
        description="a decimal string, no finer than the currency's minor unit",
    )
    currency: StrictStr = Field(examples=["EUR"], description="ISO 4217 code")


class ServiceCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Haircut",
                    "duration_minutes": 45,
                    "price": {"amount": "30.00", "currency": "EUR"},
                    "buffer_after_minutes": 15,
                }
            ]
        }
    )

    name: StrictStr = Field(min_length=1, max_length=200)
    duration_minutes: StrictInt
    price: MoneyIn
    seats: StrictInt = Field(default=1, description="1: one-to-one; more: group sessions")
    buffer_before_minutes: StrictInt = 0
    buffer_after_minutes: StrictInt = 0
    slot_interval_minutes: StrictInt | None = Field(
        default=None, description="defaults to duration"
    )
    requires: dict[str, Any] | None = Field(
        default=None,
        description='{"category": NAME} or {"resource_ids": [ID, ...]}: one free resource of it',
        examples=[{"category": "barber"}],
    )
    also_requires: list[StrictStr] = Field(
        default_factory=list, max_length=10, description="one resource of each further category"
    )


class ServicePatch(Strict):
    """Only the fields sent change; null is allowed only for slot_interval_minutes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"price": {"amount": "35.00", "currency": "EUR"}, "seats": 1}]
        }
    )

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    duration_minutes: StrictInt | None = None
    price: MoneyIn | None = None
    seats: StrictInt | None = Field(
        default=None, description="within its kind: 1 stays 1, a group stays a group"
    )
    buffer_before_minutes: StrictInt | None = None
    buffer_after_minutes: StrictInt | None = None
    slot_interval_minutes: StrictInt | None = None
    requires: dict[str, Any] | None = None
    also_requires: list[StrictStr] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _no_nulls(self) -> ServicePatch:
        for name in self.model_fields_set - {"slot_interval_minutes"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} must not be null")
        return self


E164 = r"^\+[1-9][0-9]{1,14}$"
LOCALE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # BCP 47-ish: en, de-DE, zh-Hant-TW


class ContactIn(Strict):
    """How to reach the customer about this booking; personal data, stored encrypted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Ann Smith", "email": "ann@example.com", "phone": "+4915112345678"}
            ]
        }
    )

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: StrictStr | None = Field(default=None, pattern=E164, description="E.164")
    locale: StrictStr | None = Field(
        default=None, max_length=35, pattern=LOCALE, examples=["de-DE"]
    )


class BookingCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_id": "0c6d3f1e-3a59-5b0e-8f0e-6b1f9e2b7d44",
                    "start": "2027-03-08T10:00:00+01:00",
                    "notes": "first visit",
                    "contact": {"name": "Ann Smith", "email": "ann@example.com"},
                }
            ]
        }
    )

    service_id: UUID
    start: Instant
    notes: StrictStr = Field(
        default="", max_length=2000, description="personal data: stored encrypted"
    )
    contact: ContactIn | None = None
    customer_id: StrictStr | None = Field(
        default=None, max_length=200, description="only when staff books for a customer"
    )
    resource_id: UUID | None = Field(
        default=None, description="the resource asked for; omitted: any free one"
    )


class WaitlistJoin(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2027-03-08T10:00:00+01:00",
                    "contact": {"name": "Ann Smith", "email": "ann@example.com"},
                }
            ]
        }
    )

    start: Instant
    resource_id: UUID | None = Field(
        default=None, description="wait for this resource only; omitted: any that frees"
    )
    contact: ContactIn | None = Field(
        default=None, description="where the offer is sent (personal data: stored encrypted)"
    )
    customer_id: StrictStr | None = Field(
        default=None, max_length=200, description="only when staff adds a customer to the line"
    )


class Repeat(Strict):
    every: StrictStr = Field(pattern=r"^P[0-9]{1,3}[DW]$", examples=["P1W"])
    count: StrictInt = Field(ge=1, le=52)


class SeriesCreate(BookingCreate):
    """A booking repeated every N days or weeks at the same local time."""

    repeat: Repeat
    mode: Literal["all_or_nothing", "skip_conflicts"] = "all_or_nothing"


class SeriesCancel(Strict):
    from_: Instant | None = Field(default=None, alias="from")
    reason: StrictStr = Field(default="", max_length=500)


INT64 = 2**63
METADATA_DEPTH, METADATA_ITEMS = 4, 100


def checked_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form, but storable: JSON of at most 4 levels and 100 values, 64-bit integers."""
    count = 0

    def visit(node: Any, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > METADATA_DEPTH or count > METADATA_ITEMS:
            raise ValueError(f"at most {METADATA_DEPTH} levels and {METADATA_ITEMS} values")
        if isinstance(node, bool) or node is None or isinstance(node, float | str):
            if isinstance(node, str) and len(node) > 1000:
                raise ValueError("texts of at most 1000 characters")
            return
        if isinstance(node, int):
            if not -INT64 <= node < INT64:
                raise ValueError("integers must fit in 64 bits")
            return
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict) and any(len(k) > 100 for k in node):
            raise ValueError("keys of at most 100 characters")
        for child in children:
            visit(child, depth + 1)

    visit(value, 0)
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(checked_metadata)]


class ResourceCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Joe", "kind": "staff", "category": "barber"}]}
    )

    name: StrictStr = Field(min_length=1, max_length=200)
    kind: Literal["staff", "room", "equipment"]
    category: StrictStr = Field(min_length=1, max_length=100)
    metadata: Metadata = Field(default_factory=dict)
    weekly: list[dict[str, Any]] | None = Field(
        default=None, description="own weekly hours; default: the business's"
    )


class ResourcePatch(Strict):
    """Only the fields sent change."""

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    kind: Literal["staff", "room", "equipment"] | None = None
    category: StrictStr | None = Field(default=None, min_length=1, max_length=100)
    metadata: Metadata | None = None
    weekly: list[dict[str, Any]] | None = None
    keep_bookings: StrictBool = False


class TimeOffCreate(Strict):
    start: Instant
    end: Instant
    reason: StrictStr = Field(default="", max_length=500)
    keep_bookings: StrictBool = False


class BookingCancel(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "changed plans"}]})

    reason: StrictStr = Field(default="", max_length=500)


class BookingReschedule(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start": "2027-03-09T11:00:00+01:00"}]}
    )

    start: Instant
    resource_id: UUID | None = None


class PaymentsUpdate(Strict):
    """Take payment online (Stripe) for priced services; slots wait `hold_minutes` for it."""

    enabled: bool = Field(strict=True)
    hold_minutes: int = Field(default=15, ge=1, le=1440, strict=True)


class NotificationsUpdate(Strict):
    """Who hears about bookings and when reminders go out (offsets before the start)."""

    notify_email: EmailStr | None = Field(default=None, max_length=254)
    reminders: list[StrictStr] = Field(
        default_factory=list, max_length=5, examples=[["P1D", "PT2H"]]
    )
    locale: Literal["en", "de"] = "en"
    sms: bool = Field(default=False, strict=True)
    waitlist_offer_minutes: int = Field(default=15, ge=1, le=1440, strict=True)


class CalendarFeedAnswer(BaseModel):
    """The secret address of a business's calendar feed (a rotation ends the old one)."""

    url: str


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


class WebhookReceipt(BaseModel):
    received: bool
    recorded: bool = Field(description="false for events SlotWise does not act on")
    id: UUID | None = None
