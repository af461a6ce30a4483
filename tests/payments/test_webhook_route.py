"""The webhook route: it records only what Stripe signed, recently, and each event once.

A bad signature, or one dated outside the tolerance either way, is a 400 and
nothing is written; a duplicate delivery and an old event arriving after a
newer one change a booking once, in the order the booking's own state allows.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
import stripe

from tests.e2e.conftest import assert_problem
from tests.payments.conftest import OLD_SECRET, SECRET, TEN, Shop

WEBHOOK = "/v1/payments/stripe/webhook"


def deliver(shop: Shop, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return shop.api.write.post(WEBHOOK, content=payload, headers=headers)


def succeeded_event(intent: dict[str, Any], event_id: str = "evt_test_1") -> bytes:
    """A payment_intent.succeeded event for `intent`, as Stripe would send it."""
    paid = {**intent, "status": "succeeded", "amount_received": intent["amount"]}
    event = {"id": event_id, "object": "event", "type": "payment_intent.succeeded",
             "created": int(time.time()), "livemode": False, "data": {"object": paid}}  # fmt: skip
    return orjson.dumps(event)


def sign(payload: bytes, secret: str, age: int = 0) -> str:
    stamp = int(time.time()) - age
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, stamp)


@pytest.mark.parametrize("backend", ["sqlite"])  # the route refuses before any store is touched
@pytest.mark.parametrize(
    ("signature", "why"),
    [
        (lambda p: sign(p, "whsec_someone_else"), "does not verify"),
        (lambda p: sign(p, SECRET, age=301), "tolerance"),
        (lambda p: sign(p, SECRET, age=-400), "tolerance"),  # dated ahead of our clock
        (lambda p: sign(p, SECRET, age=-(10**15)), "tolerance"),
        (lambda p: None, "missing"),
        (lambda p: sign(p + b" ", SECRET), "does not verify"),  # signed another body
    ],
    ids=["wrong-secret", "stale", "future", "far-future", "no-header", "tampered"],
)
def test_a_bad_or_stale_signature_is_refused_and_nothing_is_recorded(
    shop: Shop, signature: Any, why: str
) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    payload = succeeded_event(shop.stripe.intent(placed["payment"]["payment_intent_id"]))
    written = shop.api.events()

    problem = assert_problem(deliver(shop, payload, signature(payload)), 400, "invalid-webhook")
    assert why in problem["detail"]
    assert problem["errors"][0]["field"] == "Stripe-Signature"
    assert shop.api.events() == written
    shop.worker.step()
    assert shop.booking(placed["id"]).status.value == "pending_payment"


def test_either_secret_verifies_during_a_rotation_and_a_repeat_is_recorded_once(
    shop: Shop,
) -> None:
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    payload = succeeded_event(shop.stripe.intent(placed["payment"]["payment_intent_id"]))

    first = deliver(shop, payload, sign(payload, OLD_SECRET))
    assert first.status_code == 200, first.text
    written = shop.api.events()
    again = deliver(shop, payload, sign(payload, SECRET))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert shop.api.events() == written  # the second delivery wrote nothing
    shop.settle(lambda: shop.booking(placed["id"]).status.value == "confirmed", "confirmation")


def test_events_slotwise_does_not_act_on_are_acknowledged_and_not_recorded(shop: Shop) -> None:
    event = {"id": "evt_other", "object": "event", "type": "customer.created", "created": 1,
             "data": {"object": {"id": "cus_1", "object": "customer"}}}  # fmt: skip
    payload = orjson.dumps(event)
    written = shop.api.events()
    answer = deliver(shop, payload, sign(payload, SECRET))
    assert (answer.status_code, answer.json()) == (200, {"received": True, "recorded": False})
    assert shop.api.events() == written


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_signed_body_that_is_not_an_event_is_a_400_and_a_huge_one_a_413(shop: Shop) -> None:
    payload = b'{"hello": "world"}'
    assert_problem(deliver(shop, payload, sign(payload, SECRET)), 400, "invalid-webhook")
    huge = b'{"padding": "' + b"x" * 600_000 + b'"}'
    assert_problem(deliver(shop, huge, sign(huge, SECRET)), 413, "body-too-large")


class Capture:
    """Stands where the webhook endpoint would, keeping what localstripe sends."""

    def __init__(self) -> None:
        received: list[tuple[str, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers["Stripe-Signature"], body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + 20
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"localstripe sent {len(self.received)} webhooks"
            time.sleep(0.05)
        return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def earlier_failure(succeeded: bytes) -> bytes:
    """The payment_failed event Stripe sends for a declined first attempt on the same intent.

    localstripe cannot take a second attempt on an intent whose card was declined,
    so the test writes the older event itself, from the real one's intent.
    """
    event = orjson.loads(succeeded)
    intent = {
        **event["data"]["object"],
        "status": "requires_payment_method",
        "amount_received": 0,
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    failed = {**event, "id": f"{event['id']}_failed", "type": "payment_intent.payment_failed",
              "created": event["created"] - 5, "data": {"object": intent}}  # fmt: skip
    return orjson.dumps(failed)


@pytest.mark.parametrize("order", ["newest-first", "as-sent"])
def test_duplicate_and_out_of_order_webhooks_change_the_booking_once(
    shop: Shop, order: str
) -> None:
    capture = Capture()
    shop.stripe.send_webhooks_to(capture.url, SECRET)
    try:
        salon = shop.open_paid_salon()
        placed = shop.api.book(salon.service_id, TEN, expect=201).json()
        intent = placed["payment"]["payment_intent_id"]
        shop.stripe.pay(intent, "pm_card_visa")
        [(signature, succeeded)] = capture.wait_for(1)  # signed by localstripe
    finally:
        capture.stop()
    failed = earlier_failure(succeeded)
    newest_first = [succeeded, succeeded, failed, failed]
    sequence = newest_first if order == "newest-first" else [failed, succeeded, failed, succeeded]
    for body in sequence:
        real = body == succeeded
        assert deliver(shop, body, signature if real else sign(body, SECRET)).status_code == 200

    booking_id = placed["id"]
    if order == "newest-first":  # the older failure changes nothing once the payment is in
        shop.settle(lambda: shop.booking(booking_id).status.value == "confirmed", "confirmation")
        shop.settle(lambda: not shop.container.payments.tasks.pending(), "the saga to finish")
        assert shop.booking(booking_id).paid_online().status.value == "succeeded"
    else:  # the failure released the slot first; the success that followed is given back
        payment = lambda: shop.booking(booking_id).paid_online()  # noqa: E731
        shop.settle(lambda: payment().status.value == "refunded", "the refund")
        assert shop.booking(booking_id).status.value == "expired"
        assert len(shop.stripe.refunds(intent)) == 1
    types = [e.type.rsplit(".", 1)[1] for e in shop.events_of(booking_id)]
    assert types.count("payment_succeeded") == 1
    assert types.count("payment_failed") == (0 if order == "newest-first" else 1)
    assert "confirmed" not in types or "expired" not in types
