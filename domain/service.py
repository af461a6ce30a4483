"""The Service aggregate: what a business sells, how long it takes and what it costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import InvalidInput, InvalidService, ServiceActive, ServiceInactive
from domain.resources import Requirement, require_requirement
from domain.slots import ServiceShape
from domain.text import require_visible
from domain.values import Money

MAX_MINUTES = 24 * 60
MAX_SEATS = 10_000


@dataclass(frozen=True)
class ServiceTerms:
    """The editable fields of a service, validated together."""

    name: str
    duration_minutes: int
    price: Money
    seats: int = 1
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    slot_interval_minutes: int | None = None
    requires: dict[str, Any] | None = None
    also_requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            require_visible(self.name, "name")
        except InvalidInput as error:
            raise InvalidService(error.detail, field="name") from None
        if not 1 <= self.duration_minutes <= MAX_MINUTES:
            raise InvalidService(
                f"duration_minutes must be between 1 and {MAX_MINUTES}", field="duration_minutes"
            )
        if not 1 <= self.seats <= MAX_SEATS:
            raise InvalidService(f"seats must be between 1 and {MAX_SEATS}", field="seats")
        for field in ("buffer_before_minutes", "buffer_after_minutes"):
            if not 0 <= getattr(self, field) <= MAX_MINUTES:
                raise InvalidService(f"{field} must be between 0 and {MAX_MINUTES}", field=field)
        interval = self.slot_interval_minutes
        if interval is not None and not 1 <= interval <= MAX_MINUTES:
            raise InvalidService(
                f"slot_interval_minutes must be between 1 and {MAX_MINUTES}",
                field="slot_interval_minutes",
            )
        require_requirement(self.requires, self.also_requires)
        if self.requires is not None and self.seats != 1:
            raise InvalidService(
                "a service that needs resources books one-to-one (seats 1)", field="seats"
            )

    def requirement(self) -> Requirement | None:
        return Requirement.of(self.requires, self.also_requires)

    def as_event_fields(self) -> dict[str, Any]:
        return {
            "name": self.name.strip(),
            "duration_minutes": self.duration_minutes,
            "price_amount": self.price.amount,
            "currency": self.price.currency,
            "seats": self.seats,
            "buffer_before_minutes": self.buffer_before_minutes,
            "buffer_after_minutes": self.buffer_after_minutes,
            "slot_interval_minutes": self.slot_interval_minutes or self.duration_minutes,
            "requires": self.requires,
            "also_requires": list(self.also_requires),
        }


def _no_requirement(state: dict[str, Any]) -> None:
    state["requires"] = None
    state["also_requires"] = []


class TermsRecorded(Aggregate.Event):
    """What Service.Created and Service.Updated record of the terms: their one definition.

    v3 records the resources the service needs (none before resources existed). Applying
    one sets the service's terms (Created's `__init__` has set the rest by then).
    """

    name: str
    duration_minutes: int
    price_amount: Decimal
    currency: str
    seats: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    requires: dict[str, Any] | None
    also_requires: list[str]

    class_version = 3
    upcast_v2_v3 = staticmethod(_no_requirement)

    def apply(self, aggregate: Any) -> None:
        aggregate.take_terms(self)


class OfBusiness(Aggregate.Event):
    """Service.Created's business (a base of its own, so it is stored before the terms)."""

    business_id: UUID


class Service(Aggregate):
    """A bookable offering of one business."""

    class Created(Aggregate.Created, TermsRecorded, OfBusiness):
        pass

    class Updated(TermsRecorded):
        pass

    def __init__(self, business_id: UUID) -> None:
        self.business_id = business_id
        self.active = True

    @classmethod
    def create(cls, business_id: UUID, terms: ServiceTerms, *, id: UUID | None = None) -> Service:
        return cls._create(cls.Created, id=id, business_id=business_id, **terms.as_event_fields())

    def take_terms(self, event: TermsRecorded) -> None:
        self.name = event.name
        self.duration_minutes = event.duration_minutes
        self.price_amount = event.price_amount
        self.currency = event.currency
        self.seats = event.seats
        self.buffer_before_minutes = event.buffer_before_minutes
        self.buffer_after_minutes = event.buffer_after_minutes
        self.slot_interval_minutes = event.slot_interval_minutes
        self.requires = event.requires
        self.also_requires = list(event.also_requires)

    def requirement(self) -> Requirement | None:
        """The resources a booking needs; None: it takes a place in the capacity pool."""
        # Snapshots taken before resources existed carry no `requires`.
        return Requirement.of(getattr(self, "requires", None), getattr(self, "also_requires", ()))

    def terms(self) -> ServiceTerms:
        return ServiceTerms(
            name=self.name,
            duration_minutes=self.duration_minutes,
            price=Money(self.price_amount, self.currency),
            seats=self.seats,
            buffer_before_minutes=self.buffer_before_minutes,
            buffer_after_minutes=self.buffer_after_minutes,
            slot_interval_minutes=self.slot_interval_minutes,
            requires=getattr(self, "requires", None),
            also_requires=tuple(getattr(self, "also_requires", ())),
        )

    def update(self, terms: ServiceTerms) -> None:
        # Allocations remember bookings, not seats: reading one-to-one bookings at one
        # start as a group session would free places that are taken (and back).
        if (terms.seats > 1) != (self.seats > 1):
            raise InvalidService(
                "seats cannot turn a one-to-one service (1 seat) into a group session or back; "
                "publish a new service instead",
                field="seats",
            )
        if (terms.requires is None) != (self.requirement() is None):
            raise InvalidService(
                "requires cannot turn a service using the capacity pool into one needing "
                "resources or back; publish a new service instead",
                field="requires",
            )
        self.trigger_event(self.Updated, **terms.as_event_fields())

    def deactivate(self) -> None:
        if not self.active:
            raise ServiceInactive("the service is already deactivated")
        self._deactivate()

    @event("Deactivated")
    def _deactivate(self) -> None:
        self.active = False

    def reactivate(self) -> None:
        if self.active:
            raise ServiceActive("the service is active already")
        self._reactivate()

    @event("Reactivated")
    def _reactivate(self) -> None:
        self.active = True

    def require_active(self) -> None:
        if not self.active:
            raise ServiceInactive("the service is deactivated and takes no bookings")

    def shape(self) -> ServiceShape:
        return shape_of(
            self.id,
            self.duration_minutes,
            self.buffer_before_minutes,
            self.buffer_after_minutes,
            self.slot_interval_minutes,
            self.seats,
        )


def shape_of(
    service_id: UUID, duration: int, before: int, after: int, interval: int, seats: int
) -> ServiceShape:
    return ServiceShape(
        service_id=service_id,
        duration=timedelta(minutes=duration),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        interval=timedelta(minutes=interval),
        seats=seats,
    )
