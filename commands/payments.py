"""Command handlers for online payment: settings, and the facts the payment saga records.

The saga (and the webhook, checkout and reconcile paths) act as `system`
actors; no customer or owner may record a payment. A booking whose hold ends
releases its slot in the same atomic save as the event that ended it.
"""

from __future__ import annotations

from commands.base import handles, retry_on_conflict
from commands.booking import BookingHandlers
from commands.messages import BookingCommand, Done
from commands.payment_messages import (
    AttachPaymentIntent,
    ConfigurePayments,
    ExpireHold,
    NotePaymentDelay,
    RecordPaymentCanceled,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
    RecordRefund,
    RecordStripeEvent,
)
from domain.access import require_role
from domain.actor import Role
from domain.booking import Booking
from domain.errors import BookingNotFound
from domain.stripe_event import StripeEvent

SYSTEM_ONLY = frozenset({Role.SYSTEM})


class PaymentHandlers(BookingHandlers):
    @handles(ConfigurePayments)
    @retry_on_conflict
    def configure_payments(self, cmd: ConfigurePayments) -> Done:
        business = self.owned_business(cmd.actor, cmd.business_id)
        business.configure_payments(cmd.settings)
        return self.commit(business)

    def system_booking(self, cmd: BookingCommand) -> Booking:
        """The booking a SlotWise process records a payment fact on."""
        require_role(cmd.actor, SYSTEM_ONLY)
        return self.load(Booking, cmd.booking_id, BookingNotFound)

    def commit_releasing(self, booking: Booking, held_before: bool) -> Done:
        """Save the booking, releasing its slot if what happened ended its hold."""
        days = []
        if held_before and not booking.holds_slot:
            days = self.allocations(
                booking.business_id, booking.occupied_start, booking.occupied_end
            )
            for allocation in days:
                allocation.release(booking.id)
        return self.commit(booking, *days)

    @handles(AttachPaymentIntent)
    @retry_on_conflict
    def attach_payment_intent(self, cmd: AttachPaymentIntent) -> Done:
        booking = self.system_booking(cmd)
        booking.attach_payment_intent(cmd.payment_intent_id)
        return self.commit(booking)

    @handles(NotePaymentDelay)
    @retry_on_conflict
    def note_payment_delay(self, cmd: NotePaymentDelay) -> Done:
        booking = self.system_booking(cmd)
        booking.note_payment_delay(cmd.reason)
        return self.commit(booking)

    @handles(RecordPaymentSucceeded)
    @retry_on_conflict
    def record_payment_succeeded(self, cmd: RecordPaymentSucceeded) -> Done:
        booking = self.system_booking(cmd)
        booking.record_payment_succeeded(
            cmd.actor.id, cmd.payment_intent_id, cmd.amount, cmd.currency
        )
        return self.commit(booking)

    @handles(RecordPaymentFailed)
    @retry_on_conflict
    def record_payment_failed(self, cmd: RecordPaymentFailed) -> Done:
        booking = self.system_booking(cmd)
        held = booking.holds_slot
        booking.record_payment_failed(cmd.payment_intent_id, cmd.reason)
        return self.commit_releasing(booking, held)

    @handles(RecordPaymentCanceled)
    @retry_on_conflict
    def record_payment_canceled(self, cmd: RecordPaymentCanceled) -> Done:
        booking = self.system_booking(cmd)
        held = booking.holds_slot
        booking.record_payment_canceled(cmd.payment_intent_id)
        return self.commit_releasing(booking, held)

    @handles(ExpireHold)
    @retry_on_conflict
    def expire_hold(self, cmd: ExpireHold) -> Done:
        booking = self.system_booking(cmd)
        held = booking.holds_slot
        booking.expire(self.clock())
        return self.commit_releasing(booking, held)

    @handles(RecordRefund)
    @retry_on_conflict
    def record_refund(self, cmd: RecordRefund) -> Done:
        booking = self.system_booking(cmd)
        booking.record_refund(
            cmd.payment_intent_id, cmd.refund_id, cmd.amount, cmd.currency, cmd.reason
        )
        return self.commit(booking)

    @handles(RecordStripeEvent)
    @retry_on_conflict
    def record_stripe_event(self, cmd: RecordStripeEvent) -> Done:
        require_role(cmd.actor, SYSTEM_ONLY)
        return self.commit(StripeEvent.record(cmd.target(), cmd.notice))
