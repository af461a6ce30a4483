"""Online payment of a booking: a business's settings, the payment's status and its money.

A booking of a paid service at a business with payments enabled holds its slot
while the customer pays (`hold_minutes`). Its `BookingPayment` is changed only
by the Booking's payment events; its status is derived from the money those
events moved, so replaying them always gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidInput

# The payment provider SlotWise takes online payment through.
PROVIDER = "stripe"
DEFAULT_HOLD_MINUTES = 15
MAX_HOLD_MINUTES = 24 * 60
ZERO = Decimal(0)


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


# Statuses whose outcome still depends on the payment provider (`payments reconcile`).
OPEN_STATUSES = frozenset({PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.REFUND_PENDING})


class RefundReason(StrEnum):
    """Why SlotWise gives money back; recorded on the refund events."""

    CANCELLED_IN_TIME = "cancelled before the cancellation deadline"
    PAID_AFTER_HOLD = "paid after the payment hold had ended"
    PAID_AFTER_CANCEL = "paid after the booking was cancelled"
    DUPLICATE = "a second payment for a booking already paid"


class ExpiryReason(StrEnum):
    """Why a payment hold ended without a payment; recorded on `Booking.Expired`."""

    HOLD_ELAPSED = "the payment hold elapsed"
    PAYMENT_FAILED = "the payment failed"
    PAYMENT_CANCELED = "the payment was canceled"


@dataclass(frozen=True)
class PaymentSettings:
    """Whether a business takes payment online, and how long a slot waits for it."""

    enabled: bool = False
    hold_minutes: int = DEFAULT_HOLD_MINUTES

    def __post_init__(self) -> None:
        if not 1 <= self.hold_minutes <= MAX_HOLD_MINUTES:
            raise InvalidInput(
                f"hold_minutes must be between 1 and {MAX_HOLD_MINUTES}", field="hold_minutes"
            )


@dataclass
class BookingPayment:
    """Where a booking's payment stands; only the Booking's payment events change it."""

    provider: str
    amount: Decimal
    currency: str
    hold_expires_at: datetime
    intent_id: str | None = None
    status: PaymentStatus = PaymentStatus.REQUIRES_PAYMENT
    paid_intent_id: str | None = None  # the intent whose success paid the booking
    received: Decimal = ZERO
    refunded: Decimal = ZERO
    refund_pending: Decimal = ZERO
    succeeded_intents: list[str] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    note: str = ""  # the last failure, delay or refund reason, for people reading it

    @property
    def kept(self) -> Decimal:
        """Money received and neither refunded nor promised back."""
        return self.received - self.refunded - self.refund_pending

    def receive(self, intent_id: str, amount: Decimal) -> None:
        self.received += amount
        self.succeeded_intents.append(intent_id)
        self.paid_intent_id = self.paid_intent_id or intent_id
        self.intent_id = self.intent_id or intent_id
        self.settle()

    def promise_refund(self, amount: Decimal, reason: str) -> None:
        self.refund_pending += amount
        self.note = reason
        self.settle()

    def refund(self, refund_id: str, amount: Decimal) -> None:
        self.refunded += amount
        self.refund_pending = max(ZERO, self.refund_pending - amount)
        self.refund_ids.append(refund_id)
        self.settle()

    def settle(self) -> None:
        self.status = settled_status(
            self.status, self.amount, self.received, self.refunded, self.refund_pending
        )


def like(amount: Decimal | str, price: Decimal | str) -> str:
    """`amount` written with as many decimals as the price (0 -> "0.00" for EUR prices)."""
    return str(Decimal(amount).quantize(Decimal(price)))


def settled_status(
    current: PaymentStatus,
    amount: Decimal,
    received: Decimal,
    refunded: Decimal,
    refund_pending: Decimal,
) -> PaymentStatus:
    """The status the money moved so far gives (read models derive it the same way)."""
    if refund_pending > 0:
        return PaymentStatus.REFUND_PENDING
    if received == 0:
        return current  # requires_payment, failed or canceled: set by their events
    if refunded == 0:
        return PaymentStatus.SUCCEEDED
    if refunded >= received:
        return PaymentStatus.REFUNDED
    if received - refunded < amount:
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.SUCCEEDED  # a duplicate payment was given back: still paid once
