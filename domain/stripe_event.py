"""StripeEvent: one event Stripe sent to the webhook, recorded once and only once.

Its id derives from Stripe's event id, so a second delivery of the same event
writes version 1 of the same aggregate and collides: de-duplication without a
lookup table. It records the facts SlotWise acts on, never the whole payload
(which carries the PaymentIntent's client secret and the customer's details).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.base import Aggregate


@dataclass(frozen=True)
class StripeNotice:
    """What SlotWise keeps of a verified Stripe event about one booking's payment."""

    stripe_event_id: str
    stripe_type: str
    stripe_created: datetime
    livemode: bool
    payment_intent_id: str
    booking_id: str
    intent_status: str
    amount_minor: int  # in Stripe's minor units of `currency`
    currency: str  # upper case, as SlotWise writes ISO 4217 codes
    failure_code: str
    failure_message: str


class StripeEvent(Aggregate):
    """A Stripe event as it arrived (verified), for the payment saga to act on."""

    @event("Received")
    def __init__(
        self,
        id: UUID,
        stripe_event_id: str,
        stripe_type: str,
        stripe_created: datetime,
        livemode: bool,
        payment_intent_id: str,
        booking_id: str,
        intent_status: str,
        amount_minor: int,
        currency: str,
        failure_code: str,
        failure_message: str,
    ) -> None:
        self.stripe_event_id = stripe_event_id
        self.stripe_type = stripe_type
        self.booking_id = booking_id
        self.payment_intent_id = payment_intent_id

    @classmethod
    def record(cls, id: UUID, notice: StripeNotice) -> StripeEvent:
        return cls(
            id=id,
            stripe_event_id=notice.stripe_event_id,
            stripe_type=notice.stripe_type,
            stripe_created=notice.stripe_created,
            livemode=notice.livemode,
            payment_intent_id=notice.payment_intent_id,
            booking_id=notice.booking_id,
            intent_status=notice.intent_status,
            amount_minor=notice.amount_minor,
            currency=notice.currency,
            failure_code=notice.failure_code,
            failure_message=notice.failure_message,
        )
