"""The payment provider port on Stripe's API, with the official `stripe` library.

Every call has a timeout and is retried by the library on network errors and
on answers Stripe marks retryable, under the same idempotency key, so a retry
never charges, cancels or refunds twice. What still fails becomes
`ProviderUnavailable` (try later) or `ProviderRefused` (Stripe said no).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from commands.processes.payment.provider import (
    Intent,
    IntentRequest,
    ProviderRefused,
    ProviderUnavailable,
    RefundReceipt,
)

T = TypeVar("T")
# Stripe errors that say nothing about the request itself: the network, Stripe, our key.
UNAVAILABLE = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)


class StripeProvider:
    """PaymentIntents and refunds through Stripe (or a server speaking its API)."""

    def __init__(
        self, api_key: str, api_base: str, timeout_seconds: float, max_network_retries: int
    ) -> None:
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def create_intent(self, request: IntentRequest) -> Intent:
        params: Any = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "payment_method_types": ["card"],
            "metadata": {"booking_id": request.booking_id, "business_id": request.business_id},
        }
        options: Any = {"idempotency_key": request.idempotency_key}
        return _intent(_call(lambda: self.client.v1.payment_intents.create(params, options)))

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(_call(lambda: self.client.v1.payment_intents.retrieve(intent_id)))

    def cancel_intent(self, intent_id: str, idempotency_key: str) -> Intent:
        options: Any = {"idempotency_key": idempotency_key}
        cancel = self.client.v1.payment_intents.cancel
        return _intent(_call(lambda: cancel(intent_id, options=options)))

    def refund(
        self,
        intent_id: str,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> RefundReceipt:
        params: Any = {"payment_intent": intent_id, "amount": amount_minor, "metadata": metadata}
        options: Any = {"idempotency_key": idempotency_key}
        return _refund(_call(lambda: self.client.v1.refunds.create(params, options)))

    def refunds(self, intent_id: str) -> list[RefundReceipt]:
        params: Any = {"payment_intent": intent_id, "limit": 100}
        found = _call(lambda: self.client.v1.refunds.list(params))
        return [_refund(r) for r in found.data]


def _call(request: Callable[[], T]) -> T:
    try:
        return request()
    except UNAVAILABLE as error:
        raise ProviderUnavailable(
            f"{type(error).__name__}: {error.user_message or error}"
        ) from None
    except stripe.StripeError as error:
        if error.http_status is None or error.http_status >= 500:
            raise ProviderUnavailable(f"Stripe answered {error.http_status}: {error}") from None
        raise ProviderRefused(error.code or f"http_{error.http_status}", str(error)) from None


def _intent(found: stripe.PaymentIntent) -> Intent:
    data = found.to_dict()  # stripe 16 objects are not dicts; servers may omit fields
    status = str(data.get("status") or "")
    received = data.get("amount_received")
    if received is None:  # older API versions and fakes leave it out
        received = data.get("amount", 0) if status == "succeeded" else 0
    return Intent(
        id=str(data["id"]),
        status=status,
        client_secret=data.get("client_secret"),
        amount_minor=int(data.get("amount") or 0),
        amount_received_minor=int(received),
        currency=str(data.get("currency") or "").upper(),
        failure=_failure(data.get("last_payment_error")),
    )


def _failure(error: Any) -> str:
    if not isinstance(error, dict):
        return ""
    code = error.get("decline_code") or error.get("code") or "failed"
    return f"{code}: {error.get('message') or ''}".strip(": ")[:500]


def _refund(found: stripe.Refund) -> RefundReceipt:
    data = found.to_dict()
    metadata = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
    return RefundReceipt(
        str(data["id"]), int(data.get("amount") or 0), str(data.get("status") or ""), metadata
    )
