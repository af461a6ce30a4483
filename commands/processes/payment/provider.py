"""The payment provider as SlotWise needs it: a port, its values and its two kinds of failure.

`infra.payments.stripe_provider.StripeProvider` implements it against Stripe's
API (or any server speaking it, such as the fake the tests run); unit tests
may use an in-memory one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class ProviderUnavailable(Exception):
    """The provider did not answer in time or failed on its side: nothing is known, retry."""


class ProviderRefused(Exception):
    """The provider answered and refused the request; sending it again will not help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class IntentRequest:
    """A PaymentIntent for one booking; the idempotency key derives from the booking id."""

    booking_id: str
    business_id: str
    amount_minor: int
    currency: str  # ISO 4217, upper case
    idempotency_key: str


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # the provider's own: requires_payment_method, succeeded, canceled, ...
    client_secret: str | None
    amount_minor: int
    amount_received_minor: int
    currency: str  # upper case
    failure: str = ""  # the last payment error, "code: message", when there was one


@dataclass(frozen=True)
class RefundReceipt:
    id: str
    amount_minor: int
    status: str
    metadata: Mapping[str, str] = field(default_factory=dict)


class PaymentProvider(Protocol):
    def create_intent(self, request: IntentRequest) -> Intent: ...

    def retrieve_intent(self, intent_id: str) -> Intent: ...

    def cancel_intent(self, intent_id: str, idempotency_key: str) -> Intent: ...

    def refund(
        self,
        intent_id: str,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundReceipt: ...

    def refunds(self, intent_id: str) -> list[RefundReceipt]: ...


def require(provider: PaymentProvider | None) -> PaymentProvider:
    """The provider, or ProviderUnavailable when this deployment has none configured."""
    if provider is None:
        raise ProviderUnavailable("payments are not configured (SLOTWISE_STRIPE_API_KEY)")
    return provider


def cancel_key(intent_id: str) -> str:
    """The idempotency key of cancelling an intent: one cancellation per intent."""
    return f"slotwise-cancel-{intent_id}"
