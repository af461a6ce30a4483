"""The Booking aggregate: a customer's appointment and its lifecycle state machine."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import CancellationDeadlinePassed, IllegalTransition


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    EXPIRED = "expired"


S = BookingStatus
# Which states each action may start from; everything else is an illegal transition.
ALLOWED_FROM: dict[str, frozenset[BookingStatus]] = {
    "confirm": frozenset({S.PENDING}),
    "cancel": frozenset({S.PENDING, S.CONFIRMED}),
    "reschedule": frozenset({S.PENDING, S.CONFIRMED}),
    "check_in": frozenset({S.CONFIRMED}),
    "complete": frozenset({S.CHECKED_IN}),
    "mark_no_show": frozenset({S.CONFIRMED}),
}
ACTIVE = frozenset({S.PENDING, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED})


class Booking(Aggregate):
    """One customer's appointment for one service occurrence."""

    @event("Placed")
    def __init__(
        self,
        id: UUID,
        business_id: UUID,
        service_id: UUID,
        customer_id: str,
        placed_by: str,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        timezone: str,
        service_name: str,
        price_amount: Decimal,
        currency: str,
        notes: str,
        status: BookingStatus,
    ) -> None:
        self.business_id = business_id
        self.service_id = service_id
        self.customer_id = customer_id
        self.placed_by = placed_by
        self.start = start
        self.end = end
        self.occupied_start = occupied_start
        self.occupied_end = occupied_end
        self.timezone = timezone
        self.service_name = service_name
        self.price_amount = price_amount
        self.currency = currency
        self.notes = notes
        self.status = BookingStatus(status)
        self.cancel_reason: str | None = None

    def _require(self, action: str) -> None:
        if self.status not in ALLOWED_FROM[action]:
            allowed = ", ".join(sorted(ALLOWED_FROM[action]))
            raise IllegalTransition(
                f"cannot {action.replace('_', ' ')} a booking that is {self.status.value} "
                f"(allowed from: {allowed})"
            )

    @property
    def holds_slot(self) -> bool:
        return self.status in ACTIVE

    def confirm(self, by: str) -> None:
        self._require("confirm")
        self._confirm(by)

    @event("Confirmed")
    def _confirm(self, by: str) -> None:
        self.status = S.CONFIRMED

    def cancel(
        self, by: str, reason: str, now: datetime, deadline: timedelta, *, staff: bool
    ) -> None:
        """Cancel; the cancellation deadline binds customers, not the business."""
        self._require("cancel")
        if not staff and now > self.start - deadline:
            raise CancellationDeadlinePassed(
                f"customers may cancel until {deadline} before the start; ask the business"
            )
        self._cancel(by, reason)

    @event("Cancelled")
    def _cancel(self, by: str, reason: str) -> None:
        self.status = S.CANCELLED
        self.cancel_reason = reason

    def reschedule(
        self,
        by: str,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        now: datetime,
        deadline: timedelta,
        *,
        staff: bool,
    ) -> None:
        self._require("reschedule")
        if not staff and now > self.start - deadline:
            raise CancellationDeadlinePassed(
                f"customers may reschedule until {deadline} before the start; ask the business"
            )
        self._reschedule(by, self.start, start, end, occupied_start, occupied_end)

    @event("Rescheduled")
    def _reschedule(
        self,
        by: str,
        previous_start: datetime,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
    ) -> None:
        self.start = start
        self.end = end
        self.occupied_start = occupied_start
        self.occupied_end = occupied_end

    def check_in(self, by: str) -> None:
        self._require("check_in")
        self._check_in(by)

    @event("CheckedIn")
    def _check_in(self, by: str) -> None:
        self.status = S.CHECKED_IN

    def complete(self, by: str) -> None:
        self._require("complete")
        self._complete(by)

    @event("Completed")
    def _complete(self, by: str) -> None:
        self.status = S.COMPLETED

    def mark_no_show(self, by: str, now: datetime) -> None:
        self._require("mark_no_show")
        if now < self.start:
            raise IllegalTransition("cannot mark a no-show before the appointment starts")
        self._mark_no_show(by)

    @event("MarkedNoShow")
    def _mark_no_show(self, by: str) -> None:
        self.status = S.NO_SHOW
