"""Starting a booking's payment: its PaymentIntent, created once and recorded on the booking.

The write API does this while answering the booking request, so the client
gets the client secret at once. When Stripe cannot be reached the booking
stays held in `pending_payment`, the delay is recorded, and the saga creates
the intent when Stripe answers again. The client secret is handed to the
client and never recorded in an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from commands.app import SlotWise
from commands.messages import Command, CommandContext, Done, PlaceBooking
from commands.payment_messages import AttachPaymentIntent, NotePaymentDelay, RecordPaymentFailed
from commands.processes.payment.provider import (
    Intent,
    IntentRequest,
    PaymentProvider,
    ProviderRefused,
    ProviderUnavailable,
    cancel_key,
    require,
)
from commands.waitlist_messages import AcceptOffer
from domain.actor import Actor, system_actor
from domain.booking import Booking, BookingStatus
from domain.errors import BookingNotFound, IllegalTransition, PaymentIntentConflict
from domain.payable import to_minor
from domain.payment import like

CHECKOUT = system_actor("payment-checkout")


@dataclass(frozen=True)
class PaymentView:
    """A booking as its payer sees it: the client secret only while it can be paid."""

    booking: Booking
    client_secret: str | None
    position: int  # the log position of the last event this checkout wrote (0: none)

    def body(self) -> dict[str, Any]:
        """The booking fields of a write answer, with `payment` for a paid booking."""
        booking, payment = self.booking, self.booking.payment
        body: dict[str, Any] = {
            "status": booking.status.value,
            "start": booking.start.astimezone(ZoneInfo(booking.timezone)).isoformat(),
            "end": booking.end.astimezone(ZoneInfo(booking.timezone)).isoformat(),
        }
        if payment is None:
            return body
        body["hold_expires_at"] = payment.hold_expires_at.isoformat()
        body["payment"] = {
            "provider": payment.provider,
            "payment_intent_id": payment.intent_id,
            "client_secret": self.client_secret,
            "amount": {"amount": str(payment.amount), "currency": payment.currency},
            "refunded": {
                "amount": like(payment.refunded, payment.amount),
                "currency": payment.currency,
            },
            "status": payment.status.value,
            "note": payment.note or None,
        }
        return body


def intent_key(booking_id: UUID) -> str:
    """Stripe's idempotency key for a booking's PaymentIntent: one intent per booking."""
    return f"slotwise-booking-{booking_id}-intent"


class Checkout:
    """Makes sure a booking awaiting payment has its PaymentIntent."""

    def __init__(self, app: SlotWise, provider: PaymentProvider | None) -> None:
        self.app, self.provider = app, provider

    def open(self, booking_id: UUID, correlation_id: str) -> PaymentView:
        """The booking with its client secret; a provider outage is recorded, not raised."""
        booking = self.app.load(Booking, booking_id, BookingNotFound)
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            return PaymentView(booking, None, 0)
        try:
            intent, position = self.ensure_intent(booking, correlation_id)
        except ProviderUnavailable as error:
            position = self._note_delay(booking, str(error), correlation_id)
            return PaymentView(self._reload(booking), None, position)
        except ProviderRefused as error:
            position = self.refused(booking, error, correlation_id)
            return PaymentView(self._reload(booking), None, position)
        return PaymentView(self._reload(booking), intent.client_secret, position)

    def open_for(self, actor: Actor, booking_id: UUID, correlation_id: str) -> PaymentView:
        """`open`, for the booking's customer or its business's staff."""
        booking, _, _ = self.app.booking_for(actor, booking_id, staff_only=False)
        booking.paid_online()  # a booking paid at the venue has no payment to open
        return self.open(booking_id, correlation_id)

    def ensure_intent(self, booking: Booking, correlation_id: str) -> tuple[Intent, int]:
        """The booking's intent, created and recorded if it has none yet (and its position)."""
        provider = require(self.provider)
        payment = booking.paid_online()
        if payment.intent_id is not None:
            return provider.retrieve_intent(payment.intent_id), 0
        request = IntentRequest(
            booking_id=str(booking.id),
            business_id=str(booking.business_id),
            amount_minor=to_minor(payment.amount, payment.currency),
            currency=payment.currency,
            idempotency_key=intent_key(booking.id),
        )
        intent = provider.create_intent(request)
        context = _context(booking.id, f"attach/{intent.id}", correlation_id)
        attach = AttachPaymentIntent(CHECKOUT, booking.id, intent.id, context=context)
        try:
            done = self.app.handle(attach)
        except (PaymentIntentConflict, IllegalTransition):
            # Another path attached its own intent first, or the hold ended meanwhile:
            # this one was never handed out and must never take money.
            provider.cancel_intent(intent.id, cancel_key(intent.id))
            attached = self._reload(booking).paid_online().intent_id
            if (
                attached is None
                or self._reload(booking).status is not BookingStatus.PENDING_PAYMENT
            ):
                raise
            return provider.retrieve_intent(attached), 0
        return intent, done.position

    def _note_delay(self, booking: Booking, reason: str, correlation_id: str) -> int:
        if booking.paid_online().intent_id is not None:
            return 0  # the intent exists; only fetching its secret failed
        command = NotePaymentDelay(
            CHECKOUT,
            booking.id,
            f"Stripe could not be reached; retrying: {reason}"[:500],
            context=_context(booking.id, "payment-delay", correlation_id),
        )
        return self.app.handle(command).position

    def refused(self, booking: Booking, error: ProviderRefused, correlation_id: str) -> int:
        """Stripe will not take this payment at all: the hold ends now, the reason kept."""
        command = RecordPaymentFailed(
            CHECKOUT,
            booking.id,
            booking.paid_online().intent_id or "",
            f"Stripe refused the payment: {error}"[:500],
            context=_context(booking.id, "payment-refused", correlation_id),
        )
        return self.app.handle(command).position

    def _reload(self, booking: Booking) -> Booking:
        return self.app.load(Booking, booking.id, BookingNotFound)


def _context(booking_id: UUID, step: str, correlation_id: str) -> CommandContext:
    """A replayable context: the same step for the same booking never acts twice."""
    return CommandContext.replayable_as(uuid5(booking_id, step), correlation_id)


class StartPayment:
    """PlaceBooking's follow-up: the placed booking's payment, started while the client waits."""

    def __init__(self, checkout: Checkout) -> None:
        self.checkout = checkout

    def __call__(self, done: Done, correlation_id: str) -> tuple[Done, dict[str, Any]]:
        """The Done covering what was written, and the booking's answer with its payment."""
        app = self.checkout.app
        unpaid = app.just_saved(Booking, done.id, done.version, self.settled)
        if unpaid is not None:
            return done, unpaid  # nothing to pay: no reload
        view = self.checkout.open(done.id, correlation_id)
        covered = Done(done.id, view.booking.version, max(done.position, view.position))
        return covered, view.body()

    def settled(self, placed: Any) -> dict[str, Any] | None:
        """What `__call__` adds to the answer for the booking about to be saved, when it
        would write nothing (no payment to open); None when it would (or may)."""
        if not isinstance(placed, Booking) or placed.status is BookingStatus.PENDING_PAYMENT:
            return None
        return PaymentView(placed, None, 0).body()


def follow_ups(checkout: Checkout) -> dict[type[Command], StartPayment]:
    """What the write side does after a command succeeds, before it answers (an accepted
    waitlist offer is a booking like any other)."""
    return {PlaceBooking: StartPayment(checkout), AcceptOffer: StartPayment(checkout)}
