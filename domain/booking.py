"""The Booking aggregate: a customer's appointment and its lifecycle state machine.

A booking of a paid service waits in `pending_payment`, holding its slot, until
its payment succeeds (confirmed) or its hold ends unpaid (expired). Which of
the two happens first is decided here, one event after the other on one
aggregate, so a payment can never confirm a booking whose slot was released:
a late payment is recorded together with the refund it is owed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import CancellationDeadlinePassed, IllegalTransition, PaymentIntentConflict
from domain.payment import BookingPayment, ExpiryReason, PaymentStatus, RefundReason
from domain.personal import Sealed


class BookingStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
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
    "confirm": frozenset({S.PENDING}),  # never pending_payment: only a payment confirms that
    "cancel": frozenset({S.PENDING_PAYMENT, S.PENDING, S.CONFIRMED}),
    "reschedule": frozenset({S.PENDING_PAYMENT, S.PENDING, S.CONFIRMED}),
    "check_in": frozenset({S.CONFIRMED}),
    "complete": frozenset({S.CHECKED_IN}),
    "mark_no_show": frozenset({S.CONFIRMED}),
    "expire": frozenset({S.PENDING_PAYMENT}),
    "attach_payment_intent": frozenset({S.PENDING_PAYMENT}),
    "note_payment_delay": frozenset({S.PENDING_PAYMENT}),
}
ACTIVE = frozenset({S.PENDING_PAYMENT, S.PENDING, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED})


class Booking(Aggregate):
    """One customer's appointment for one service occurrence."""

    class Placed(Aggregate.Created):
        """v3 holds the contact and notes sealed (`personal_data`); notes that older events
        held in plain text are read as `legacy_notes`, which new events leave empty."""

        business_id: UUID
        service_id: UUID
        customer_id: str
        placed_by: str
        start: datetime
        end: datetime
        occupied_start: datetime
        occupied_end: datetime
        timezone: str
        service_name: str
        price_amount: Decimal
        currency: str
        personal_data: Sealed | None
        legacy_notes: str
        status: BookingStatus
        resources: list[dict[str, str]]
        series_id: UUID | None

        class_version = 4

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["legacy_notes"] = state.pop("notes", "")
            state["personal_data"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """Bookings before resources and series held neither."""
            state["resources"] = []
            state["series_id"] = None

    @event(Placed)
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
        personal_data: Sealed | None,
        legacy_notes: str,
        status: BookingStatus,
        resources: list[dict[str, str]],
        series_id: UUID | None,
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
        self.personal_data = personal_data
        self.legacy_notes = legacy_notes
        self.status = BookingStatus(status)
        self.resources = resources  # {id, name, category} as they were when placed
        self.series_id = series_id
        self.cancel_reason: Sealed | None = None
        self.expire_reason: str | None = None
        self.payment: BookingPayment | None = None

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
        self, by: str, reason: Sealed | None, now: datetime, deadline: timedelta, *, staff: bool
    ) -> None:
        """Cancel; the cancellation deadline binds customers, not the business.

        The reason is free text about a person's booking, so it arrives sealed (or None)."""
        self._require("cancel")
        if not staff and now > self.start - deadline:
            raise CancellationDeadlinePassed(
                f"customers may cancel until {deadline} before the start; ask the business"
            )
        self._cancel(by, reason, "")
        payment = self.payment
        if payment is not None and payment.kept > 0 and now <= self.start - deadline:
            intent = payment.paid_intent_id or ""
            self._request_refund(
                intent, payment.kept, payment.currency, RefundReason.CANCELLED_IN_TIME.value
            )

    class Cancelled(Aggregate.Event):
        """v3 holds the reason sealed (`personal_data`: `{"reason": …}`); a reason that older
        events held in plain text is read as `legacy_reason`, which new events leave empty."""

        by: str
        personal_data: Sealed | None
        legacy_reason: str

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["legacy_reason"] = state.pop("reason", "")
            state["personal_data"] = None

    @event(Cancelled)
    def _cancel(self, by: str, personal_data: Sealed | None, legacy_reason: str) -> None:
        self.status = S.CANCELLED
        self.cancel_reason = personal_data

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
        resources: list[dict[str, str]] | None = None,
    ) -> None:
        self._require("reschedule")
        if not staff and now > self.start - deadline:
            raise CancellationDeadlinePassed(
                f"customers may reschedule until {deadline} before the start; ask the business"
            )
        held = self.held_resources() if resources is None else resources
        self._reschedule(by, self.start, start, end, occupied_start, occupied_end, held)

    def held_resources(self) -> list[dict[str, str]]:
        # Snapshots and states from before resources existed carry none.
        found: list[dict[str, str]] = getattr(self, "resources", [])
        return found

    class Rescheduled(Aggregate.Event):
        """v3 names the resources held after the move (none before resources existed)."""

        by: str
        previous_start: datetime
        start: datetime
        end: datetime
        occupied_start: datetime
        occupied_end: datetime
        resources: list[dict[str, str]]

        class_version = 3

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["resources"] = []

    @event(Rescheduled)
    def _reschedule(
        self,
        by: str,
        previous_start: datetime,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        resources: list[dict[str, str]],
    ) -> None:
        self.start = start
        self.end = end
        self.occupied_start = occupied_start
        self.occupied_end = occupied_end
        self.resources = resources

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

    # -- online payment ---------------------------------------------------------------

    def paid_online(self) -> BookingPayment:
        """The booking's payment, or IllegalTransition for a booking paid at the venue."""
        if self.payment is None:
            raise IllegalTransition("this booking takes no online payment")
        return self.payment

    def request_payment(self, provider: str, hold_expires_at: datetime) -> None:
        """Ask for the snapshotted price online; the slot is held until `hold_expires_at`."""
        self._request_payment(provider, self.price_amount, self.currency, hold_expires_at)

    @event("PaymentRequested")
    def _request_payment(
        self, provider: str, amount: Decimal, currency: str, hold_expires_at: datetime
    ) -> None:
        self.payment = BookingPayment(provider, amount, currency, hold_expires_at)

    def attach_payment_intent(self, payment_intent_id: str) -> bool:
        """Record the provider's intent; False when this one was recorded already."""
        attached = self.payment.intent_id if self.payment else None
        if attached == payment_intent_id:
            return False
        if attached is not None:
            raise PaymentIntentConflict(
                f"the booking is paid through {attached}, not {payment_intent_id}"
            )
        self._require("attach_payment_intent")
        self.paid_online()
        self._attach_payment_intent(payment_intent_id)
        return True

    @event("PaymentIntentCreated")
    def _attach_payment_intent(self, payment_intent_id: str) -> None:
        self.paid_online().intent_id = payment_intent_id

    def note_payment_delay(self, reason: str) -> None:
        """The provider could not be asked yet; SlotWise keeps trying while the hold lasts."""
        self._require("note_payment_delay")
        if self.paid_online().intent_id is not None:
            raise IllegalTransition("the booking's payment has started already")
        self._note_payment_delay(reason)

    @event("PaymentIntentDelayed")
    def _note_payment_delay(self, reason: str) -> None:
        self.paid_online().note = reason

    def record_payment_succeeded(
        self, by: str, payment_intent_id: str, amount: Decimal, currency: str
    ) -> bool:
        """Money arrived: confirm while the slot is held, else owe it back. False if known."""
        payment = self.paid_online()
        if payment_intent_id in payment.succeeded_intents:
            return False
        first = payment.received == 0
        self._payment_succeeded(payment_intent_id, amount, currency)
        if not first:
            self._request_refund(payment_intent_id, amount, currency, RefundReason.DUPLICATE.value)
        elif self.status is S.PENDING_PAYMENT:
            self._confirm(by)
        else:  # the hold ended or the booking was cancelled before the money came
            late = RefundReason.PAID_AFTER_CANCEL if self.status is S.CANCELLED else None
            reason = (late or RefundReason.PAID_AFTER_HOLD).value
            self._request_refund(payment_intent_id, amount, currency, reason)
        return True

    @event("PaymentSucceeded")
    def _payment_succeeded(self, payment_intent_id: str, amount: Decimal, currency: str) -> None:
        self.paid_online().receive(payment_intent_id, amount)

    def record_payment_failed(self, payment_intent_id: str, reason: str) -> bool:
        """The payment failed: the hold ends and the slot is free. False if nothing changes."""
        payment = self._payment_through(payment_intent_id)
        if payment.received > 0:
            raise IllegalTransition(
                "the payment succeeded already; an earlier failure changes nothing"
            )
        if payment.status is PaymentStatus.FAILED:
            return False
        self._payment_failed(payment_intent_id, reason)
        if self.status is S.PENDING_PAYMENT:
            self._expire(ExpiryReason.PAYMENT_FAILED.value)
        return True

    @event("PaymentFailed")
    def _payment_failed(self, payment_intent_id: str, reason: str) -> None:
        payment = self.paid_online()
        payment.status, payment.note = PaymentStatus.FAILED, reason

    def record_payment_canceled(self, payment_intent_id: str) -> bool:
        """The provider will take no money for this intent. False if nothing changes."""
        payment = self._payment_through(payment_intent_id)
        if payment.received > 0:
            raise IllegalTransition("the payment succeeded already; it cannot be canceled")
        if payment.status is not PaymentStatus.REQUIRES_PAYMENT:
            return False
        self._payment_canceled(payment_intent_id)
        if self.status is S.PENDING_PAYMENT:
            self._expire(ExpiryReason.PAYMENT_CANCELED.value)
        return True

    @event("PaymentCanceled")
    def _payment_canceled(self, payment_intent_id: str) -> None:
        self.paid_online().status = PaymentStatus.CANCELED

    def _payment_through(self, payment_intent_id: str) -> BookingPayment:
        """The payment, if `payment_intent_id` is (or may become) its intent."""
        payment = self.paid_online()
        if payment.intent_id not in (None, payment_intent_id):
            raise PaymentIntentConflict(
                f"{payment_intent_id} is not this booking's payment intent ({payment.intent_id})"
            )
        return payment

    def expire(self, now: datetime) -> None:
        """The hold ran out unpaid: the slot is released (by the handler, in the same save)."""
        self._require("expire")
        hold_expires_at = self.paid_online().hold_expires_at
        if now < hold_expires_at:
            raise IllegalTransition(f"the payment hold runs until {hold_expires_at.isoformat()}")
        self._expire(ExpiryReason.HOLD_ELAPSED.value)

    @event("Expired")
    def _expire(self, reason: str) -> None:
        self.status = S.EXPIRED
        self.expire_reason = reason

    @event("RefundRequested")
    def _request_refund(
        self, payment_intent_id: str, amount: Decimal, currency: str, reason: str
    ) -> None:
        self.paid_online().promise_refund(amount, reason)

    def record_refund(
        self, payment_intent_id: str, refund_id: str, amount: Decimal, currency: str, reason: str
    ) -> bool:
        """The provider gave money back; False when this refund was recorded already."""
        if refund_id in self.paid_online().refund_ids:
            return False
        self._refunded(payment_intent_id, refund_id, amount, currency, reason)
        return True

    @event("Refunded")
    def _refunded(
        self, payment_intent_id: str, refund_id: str, amount: Decimal, currency: str, reason: str
    ) -> None:
        self.paid_online().refund(refund_id, amount)
