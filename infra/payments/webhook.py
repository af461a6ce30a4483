"""Stripe webhooks: verify the signature, then keep the facts SlotWise acts on.

The signature is checked with the `stripe` library against every configured
secret (several during a rotation), with Stripe's 300-second tolerance for the
timestamp, applied both ways (the library refuses only an old one, and a
signature dated far ahead would stay replayable until that date). Only then
is the body parsed; anything that fails is a 400 and nothing is recorded.
What is kept is a `StripeNotice`: never the client secret or the customer's
details that the payload also carries.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson

from domain.errors import BadWebhook
from domain.stripe_event import StripeNotice
from domain.text import unclean_character

TOLERANCE_SECONDS = 300
HEADER = "Stripe-Signature"
# The Stripe events the payment saga acts on; others are acknowledged and dropped.
HANDLED = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}
)
STRIPE_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/stripe-event")


def command_id_for(stripe_event_id: str) -> UUID:
    """The id of the command recording a Stripe event: a redelivery collides with it."""
    return uuid5(STRIPE_EVENT_NAMESPACE, stripe_event_id)


def verify(payload: bytes, header: str | None, secrets: Sequence[str]) -> dict[str, Any]:
    """The event, if `header` signs `payload` with one of `secrets` recently enough."""
    if not header:
        raise BadWebhook(f"the {HEADER} header is missing", field=HEADER)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadWebhook("the body is not UTF-8", field="body") from None
    import stripe  # the `stripe` extra: only a server taking payments verifies webhooks

    problems = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as error:
            problems.append(str(error.user_message or error))
            continue
        ahead = _future_timestamp(header)
        if ahead is None:
            return _parse(payload)
        problems.append(f"Timestamp outside the tolerance zone ({ahead})")  # Stripe's words
    stale = [p for p in problems if "tolerance" in p]  # right secret, out of date
    raise BadWebhook(f"the signature does not verify: {(stale or problems)[0]}", field=HEADER)


def _future_timestamp(header: str) -> int | None:
    """The header's `t=` if it lies beyond the tolerance ahead of our clock, else None."""
    # Read as the library reads it (the first `t=` item), which verify_header has done already.
    items = [item.split("=", 2) for item in header.split(",")]
    stamp = int(next(item[1] for item in items if item[0] == "t"))
    return stamp if stamp > time.time() + TOLERANCE_SECONDS else None


def _parse(payload: bytes) -> dict[str, Any]:
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise BadWebhook("the body is not JSON", field="body") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise BadWebhook("the body is not a Stripe event", field="body")
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise BadWebhook("the event has no id or type", field="body")
    return event


def notice_of(event: Mapping[str, Any]) -> StripeNotice | None:
    """The facts of a verified event about a SlotWise booking's payment, or None."""
    if event["type"] not in HANDLED:
        return None
    intent = _mapping(_mapping(event.get("data")).get("object"))
    booking_id = _mapping(intent.get("metadata")).get("booking_id")
    if intent.get("object") != "payment_intent" or not _is_uuid(booking_id):
        return None  # not a PaymentIntent SlotWise created
    error = _mapping(intent.get("last_payment_error"))
    return StripeNotice(
        stripe_event_id=_text(event["id"], "id"),
        stripe_type=event["type"],
        stripe_created=_instant(event.get("created")),
        livemode=event.get("livemode") is True,
        payment_intent_id=_text(intent.get("id"), "data.object.id"),
        booking_id=str(booking_id),
        intent_status=_storable(intent.get("status")),
        amount_minor=_amount(intent),
        currency=_text(intent.get("currency"), "data.object.currency").upper(),
        failure_code=_storable(error.get("decline_code") or error.get("code")),
        failure_message=_storable(error.get("message")),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_uuid(value: Any) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or unclean_character(value, single_line=True):
        raise BadWebhook(f"the event has no usable {field}", field=f"body.{field}")
    return value[:255]


def _storable(value: Any) -> str:
    """Free text from Stripe, without what no store accepts (NUL, controls), bounded."""
    text = value if isinstance(value, str) else ""
    return "".join(c for c in text if unclean_character(c, single_line=True) is None)[:500]


def _amount(intent: Mapping[str, Any]) -> int:
    """Money received for a success (some API versions only give `amount`)."""
    received = intent.get("amount_received")
    value = received if isinstance(received, int) and received > 0 else intent.get("amount")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadWebhook("the event has no amount", field="body.data.object.amount")
    return value


def _instant(created: Any) -> datetime:
    if not isinstance(created, int) or isinstance(created, bool):
        raise BadWebhook("the event has no creation time", field="body.created")
    try:
        return datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadWebhook(
            "the event's creation time is out of range", field="body.created"
        ) from None
