"""`slotwise payments reconcile`: ask the provider about every payment still open.

Webhooks can be lost (a fake server never retries them; Stripe gives up after
days). Reconciling takes the open payments (the `OpenPayments` port: the read model), asks
the provider for each intent's state, and records what it finds with the same
commands the saga sends; a booking still waiting for its intent gets it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from commands.app import SlotWise
from commands.messages import CommandContext
from commands.payment_messages import RecordRefund
from commands.processes.payment import intent_state
from commands.processes.payment.checkout import Checkout
from commands.processes.payment.provider import (
    PaymentProvider,
    ProviderRefused,
    ProviderUnavailable,
)
from domain.actor import system_actor
from domain.booking import Booking, BookingStatus
from domain.errors import BookingNotFound, DomainError
from domain.payable import from_minor

RECONCILER = system_actor("payment-reconcile")


@dataclass(frozen=True)
class Reconciled:
    booking_id: str
    before: str
    after: str
    note: str


@dataclass(frozen=True)
class Reconcile:
    """The use case: each open payment asked about, and what the provider says recorded."""

    app: SlotWise
    provider: PaymentProvider | None
    checkout: Checkout

    def __call__(self, booking_ids: list[UUID], run_id: str) -> list[Reconciled]:
        return [_reconcile_one(self, booking_id, run_id) for booking_id in booking_ids]


def _reconcile_one(payments: Reconcile, booking_id: UUID, run_id: str) -> Reconciled:
    app = payments.app
    booking = app.load(Booking, booking_id, BookingNotFound)
    before = _state(booking)
    try:
        note = _ask(app, payments, booking, run_id)
    except ProviderUnavailable as error:
        note = f"Stripe unavailable: {error}"
    except (ProviderRefused, DomainError) as error:
        note = f"left as it is: {error}"
    after = _state(app.load(Booking, booking_id, BookingNotFound))
    return Reconciled(str(booking_id), before, after, note)


def _ask(app: SlotWise, payments: Reconcile, booking: Booking, run_id: str) -> str:
    payment = booking.payment
    provider = payments.provider
    if payment is None or provider is None:
        return "no online payment" if payment is None else "payments are not configured"
    if payment.intent_id is None:
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return "no payment intent was ever created"
        intent, _ = payments.checkout.ensure_intent(booking, run_id)
        return f"created payment intent {intent.id}"
    intent = provider.retrieve_intent(payment.intent_id)
    notes = []
    if payment.received == 0:
        context = _context(booking.id, f"{intent.id}/{intent.status}", run_id)
        command = intent_state.command_for(RECONCILER, booking.id, intent, context)
        notes.append(intent_state.record(app, command))
    if payment.refund_pending > 0:
        notes.append(_record_refunds(app, payments, booking, intent.id, run_id))
    return "; ".join(notes) or f"intent is {intent.status}"


def _record_refunds(
    app: SlotWise, payments: Reconcile, booking: Booking, intent_id: str, run_id: str
) -> str:
    """Record refunds SlotWise asked for that Stripe made but the saga did not record yet."""
    assert payments.provider is not None and booking.payment is not None
    payment, recorded = booking.payment, 0
    for refund in payments.provider.refunds(intent_id):
        if refund.id in payment.refund_ids or "refund_request" not in refund.metadata:
            continue
        amount = from_minor(refund.amount_minor, payment.currency)
        context = _context(booking.id, f"refund/{refund.id}", run_id)
        app.handle(
            RecordRefund(
                RECONCILER,
                booking.id,
                intent_id,
                refund.id,
                amount,
                payment.currency,
                payment.note,
                context=context,
            )
        )
        recorded += 1
    return (
        f"recorded {recorded} refunds"
        if recorded
        else "refund still pending (the worker retries it)"
    )


def _state(booking: Booking) -> str:
    payment = booking.payment
    return f"{booking.status.value}/{payment.status.value if payment else '-'}"


def _context(booking_id: UUID, step: str, run_id: str) -> CommandContext:
    return CommandContext.replayable_as(uuid5(booking_id, f"reconcile/{step}"), run_id)
