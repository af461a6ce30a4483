"""Commands about online payment: business settings, and the facts the payment saga records.

Routes send `ConfigurePayments`; the payment saga, acting as the `system`
actor, sends the rest, each with an id derived from the event it reacts to
so that a redelivered event never acts twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from commands.messages import BookingCommand, BusinessCommand, Command
from domain.payment import PaymentSettings
from domain.stripe_event import StripeNotice


@dataclass(frozen=True)
class ConfigurePayments(BusinessCommand):
    settings: PaymentSettings


@dataclass(frozen=True)
class AttachPaymentIntent(BookingCommand):
    payment_intent_id: str


@dataclass(frozen=True)
class NotePaymentDelay(BookingCommand):
    """The provider could not be reached when the booking was placed."""

    reason: str


@dataclass(frozen=True)
class RecordPaymentSucceeded(BookingCommand):
    payment_intent_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RecordPaymentFailed(BookingCommand):
    payment_intent_id: str
    reason: str


@dataclass(frozen=True)
class RecordPaymentCanceled(BookingCommand):
    payment_intent_id: str


@dataclass(frozen=True)
class ExpireHold(BookingCommand):
    """The payment hold ran out: release the slot."""


@dataclass(frozen=True)
class RecordRefund(BookingCommand):
    payment_intent_id: str
    refund_id: str
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True)
class RecordStripeEvent(Command):
    """A verified webhook delivery; its command id derives from Stripe's event id."""

    notice: StripeNotice

    def target(self) -> UUID:
        return self.context.new_id("stripe_event")
