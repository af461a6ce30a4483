"""Stripe's webhook signature, checked with the stripe library; and what a verified event keeps."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import stripe

from domain.errors import BadWebhook
from infra.payments.webhook import notice_of, verify

OLD, NEW = "whsec_old", "whsec_new"
BOOKING = "0c6d3f1e-3a59-5b0e-8f0e-6b1f9e2b7d44"


def stripe_event(kind: str = "payment_intent.succeeded", **intent: Any) -> dict[str, Any]:
    obj = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 3000,
        "amount_received": 3000,
        "currency": "eur",
        "status": "succeeded",
        "client_secret": "pi_1_secret_never_kept",
        "metadata": {"booking_id": BOOKING},
        **intent,
    }
    return {"id": "evt_1", "object": "event", "type": kind, "created": 1_700_000_000,
            "livemode": False, "data": {"object": obj}}  # fmt: skip


def signed(event: dict[str, Any], secret: str, age: int = 0) -> tuple[bytes, str]:
    payload = orjson.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, int(time.time()) - age
    )
    return payload, header


def test_accepts_an_event_signed_with_any_current_secret() -> None:
    for secret in (OLD, NEW):
        payload, header = signed(stripe_event(), secret)
        assert verify(payload, header, (OLD, NEW))["id"] == "evt_1"


@pytest.mark.parametrize(
    ("secret", "age", "why"),
    [
        ("whsec_other", 0, "matching"),
        (NEW, 301, "tolerance"),
        (NEW, -301, "tolerance"),
        (NEW, -(10**15), "tolerance"),
        ("whsec_other", -400, "matching"),
    ],
    ids=["wrong secret", "stale", "future", "far future", "wrong secret and future"],
)
def test_refuses_a_wrong_or_out_of_date_signature(secret: str, age: int, why: str) -> None:
    payload, header = signed(stripe_event(), secret, age)
    with pytest.raises(BadWebhook, match=why) as refused:
        verify(payload, header, (OLD, NEW))
    assert refused.value.field == "Stripe-Signature"


def test_accepts_a_signature_a_little_ahead_of_our_clock() -> None:
    payload, header = signed(stripe_event(), NEW, age=-200)  # clocks disagree by minutes
    assert verify(payload, header, (OLD, NEW))["id"] == "evt_1"


def test_a_future_dated_signature_gets_the_same_answer_as_a_stale_one() -> None:
    answers = []
    for age in (301, -301):
        payload, header = signed(stripe_event(), NEW, age)
        with pytest.raises(BadWebhook) as refused:
            verify(payload, header, (OLD, NEW))
        answers.append(refused.value.detail.split("(")[0])
    assert answers[0] == answers[1]


def test_refuses_a_missing_header_and_a_changed_body() -> None:
    payload, header = signed(stripe_event(), NEW)
    with pytest.raises(BadWebhook, match="missing"):
        verify(payload, None, (NEW,))
    with pytest.raises(BadWebhook, match="does not verify"):
        verify(payload.replace(b"3000", b"1"), header, (NEW,))


def test_refuses_a_signed_body_that_is_no_stripe_event() -> None:
    for body in (b"not json", b"[]", b'{"object": "event"}'):
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), NEW)
        with pytest.raises(BadWebhook, match=r"body|event"):
            verify(body, header, (NEW,))


def test_keeps_the_facts_of_a_payment_and_never_the_client_secret() -> None:
    failed = stripe_event(
        "payment_intent.payment_failed",
        status="requires_payment_method",
        amount_received=0,
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    notice = notice_of(failed)
    assert notice is not None
    assert (notice.booking_id, notice.payment_intent_id, notice.currency) == (
        BOOKING,
        "pi_1",
        "EUR",
    )
    assert (notice.amount_minor, notice.failure_code) == (3000, "card_declined")
    assert "secret" not in repr(notice)


def test_ignores_events_that_are_not_about_a_slotwise_booking() -> None:
    assert notice_of(stripe_event("customer.created")) is None
    assert notice_of(stripe_event(metadata={})) is None
    assert notice_of(stripe_event(metadata={"booking_id": "not-a-uuid"})) is None
