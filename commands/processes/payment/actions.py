"""What each payment task does: the saga's reactions, sent as the `payment-saga` actor.

Each command's id derives from its task, and the task's from the event that
caused it, so a task run twice (after a crash, by two workers) meets its own
earlier effect instead of acting again. Calls to Stripe carry idempotency keys
derived the same way; a refund is also looked up before it is made, for
servers that ignore those keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from commands.app import SlotWise
from commands.messages import Command, CommandContext
from commands.payment_messages import (
    ExpireHold,
    RecordPaymentCanceled,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
    RecordRefund,
)
from commands.processes.payment import intent_state, saga
from commands.processes.payment.checkout import Checkout
from commands.processes.payment.provider import (
    Intent,
    PaymentProvider,
    ProviderRefused,
    ProviderUnavailable,
    RefundReceipt,
    cancel_key,
    require,
)
from domain.actor import system_actor
from domain.booking import Booking, BookingStatus
from domain.errors import BookingNotFound
from domain.payable import from_minor, to_minor

SAGA = system_actor("payment-saga")


@dataclass(frozen=True)
class Task:
    id: str
    kind: str
    booking_id: str
    payload: dict[str, Any]
    causation_id: str
    correlation_id: str
    due_at: datetime
    attempts: int
    failures: int

    def context(self) -> CommandContext:
        return CommandContext.replayable_as(
            uuid5(UUID(self.id), "command"), self.correlation_id, self.causation_id
        )


@dataclass(frozen=True)
class Later:
    """Not yet: run the task again at `due_at` (a hold that has not ended by this clock)."""

    due_at: datetime


Result = str | Later  # a note on what was done, or when to look again


class PaymentActions:
    """Carries out one task; raises ProviderUnavailable or a DomainError when it cannot."""

    def __init__(self, app: SlotWise, provider: PaymentProvider | None, checkout: Checkout) -> None:
        self.app, self.provider, self.checkout = app, provider, checkout
        self.kinds: dict[str, Callable[[Task], Result]] = {
            saga.EXPIRE_HOLD: self.expire_hold,
            saga.CREATE_INTENT: self.create_intent,
            saga.CANCEL_INTENT: self.cancel_intent,
            saga.REFUND: self.refund,
            saga.STRIPE_EVENT: self.apply_stripe_event,
        }

    def run(self, task: Task) -> Result:
        return self.kinds[task.kind](task)

    def booking(self, task: Task) -> Booking:
        return self.app.load(Booking, UUID(task.booking_id), BookingNotFound)

    def send(self, command: Command) -> str:
        done = self.app.handle(command)
        return f"{type(command).__name__} at version {done.version}"

    def expire_hold(self, task: Task) -> Result:
        booking = self.booking(task)
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return f"nothing to do: the booking is {booking.status.value}"
        hold_ends = booking.paid_online().hold_expires_at
        if self.app.clock() < hold_ends:
            return Later(hold_ends)  # this worker's clock is behind the writer's
        return self.send(ExpireHold(SAGA, booking.id, context=task.context()))

    def create_intent(self, task: Task) -> Result:
        booking = self.booking(task)
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return f"nothing to do: the booking is {booking.status.value}"
        try:
            intent, _ = self.checkout.ensure_intent(booking, task.correlation_id)
        except ProviderRefused as error:
            self.checkout.refused(booking, error, task.correlation_id)
            return f"Stripe refused the payment: {error}"
        return f"payment intent {intent.id}"

    def cancel_intent(self, task: Task) -> Result:
        """The hold ended unpaid: make sure the intent can take no money any more."""
        payment = self.booking(task).payment
        if payment is None or payment.intent_id is None:
            return "nothing to cancel"
        if payment.received > 0:
            return "nothing to cancel: the booking is paid"
        provider = require(self.provider)
        try:
            intent = provider.cancel_intent(payment.intent_id, cancel_key(payment.intent_id))
        except ProviderRefused:  # already canceled, or paid in the meantime: ask what it is
            intent = provider.retrieve_intent(payment.intent_id)
        return self._record_outcome(task, intent)

    def _record_outcome(self, task: Task, intent: Intent) -> Result:
        if intent.status not in ("succeeded", "canceled"):
            raise ProviderUnavailable(
                f"payment intent {intent.id} is {intent.status}; asking again"
            )
        # Paid in the meantime: the success is recorded, and the refund it is owed follows.
        command = intent_state.command_for(SAGA, UUID(task.booking_id), intent, task.context())
        return intent_state.record(self.app, command)

    def refund(self, task: Task) -> Result:
        intent_id, currency = str(task.payload["payment_intent_id"]), str(task.payload["currency"])
        receipt = self._refund_once(task, intent_id, Decimal(str(task.payload["amount"])), currency)
        refunded = from_minor(receipt.amount_minor, currency)
        command = RecordRefund(
            SAGA,
            UUID(task.booking_id),
            intent_id,
            receipt.id,
            refunded,
            currency,
            str(task.payload["reason"]),
            context=task.context(),
        )
        return self.send(command)

    def _refund_once(
        self, task: Task, intent_id: str, amount: Decimal, currency: str
    ) -> RefundReceipt:
        """The refund this task asked for, made now unless an earlier try made it already."""
        provider = require(self.provider)
        # A server that ignores idempotency keys must not refund twice after a crash.
        for earlier in provider.refunds(intent_id):
            if earlier.metadata.get("refund_request") == task.causation_id:
                return earlier
        return provider.refund(
            intent_id,
            to_minor(amount, currency),
            f"slotwise-refund-{task.causation_id}",
            {"booking_id": task.booking_id, "refund_request": task.causation_id},
        )

    def apply_stripe_event(self, task: Task) -> Result:
        """A webhook's news, turned into the command that records it on the booking."""
        data, booking_id = task.payload, UUID(task.booking_id)
        intent_id, kind = str(data["payment_intent_id"]), str(data["stripe_type"])
        context = task.context()
        if kind == "payment_intent.succeeded":
            currency = str(data["currency"])
            amount = from_minor(int(data["amount_minor"]), currency)
            return self.send(
                RecordPaymentSucceeded(
                    SAGA, booking_id, intent_id, amount, currency, context=context
                )
            )
        if kind == "payment_intent.payment_failed":
            why = f"{data['failure_code'] or 'failed'}: {data['failure_message']}".strip(": ")
            return self.send(RecordPaymentFailed(SAGA, booking_id, intent_id, why, context=context))
        if kind == "payment_intent.canceled":
            return self.send(RecordPaymentCanceled(SAGA, booking_id, intent_id, context=context))
        return f"nothing to do for {kind}"
