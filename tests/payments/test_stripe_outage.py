"""Stripe unreachable: the booking waits in a clear pending status and the saga resumes later.

SlotWise points at a port where no Stripe answers. The booking is still held
(201, pending_payment, no client secret yet, the delay recorded); the saga's
attempt fails and is retried; once a Stripe server answers on that port the
intent is created, the customer gets the client secret, pays, and the
booking is confirmed. Nothing was lost and nothing happened twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FrozenClock
from tests.e2e.conftest import ANN, assert_problem
from tests.faultproxy import FaultProxy
from tests.payments.conftest import SECRET, TEN, Shop, free_port, open_shop, paid_settings
from tests.payments.fake_stripe import FakeStripe


@pytest.fixture
def stripe_later(tmp_path: Path) -> Iterator[FakeStripe]:
    """A Stripe server on a port of its own, not started yet."""
    later = FakeStripe(free_port(), tmp_path / "localstripe-later.log")
    yield later
    later.stop()


@pytest.fixture
def cut_off_shop(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    clock: FrozenClock,
    stripe_later: FakeStripe,
    token: Any,
) -> Iterator[Shop]:
    settings = paid_settings(backend, tmp_path, request, stripe_later.url)
    yield from open_shop(settings, clock, stripe_later, token, up=False)


def test_stripe_unreachable_leaves_the_booking_pending_until_stripe_is_back(
    cut_off_shop: Shop, stripe_later: FakeStripe
) -> None:
    shop = cut_off_shop
    salon = shop.open_paid_salon()
    placed = shop.api.book(salon.service_id, TEN, expect=201).json()
    assert placed["status"] == "pending_payment"
    payment = placed["payment"]
    assert (payment["payment_intent_id"], payment["client_secret"]) == (None, None)
    assert payment["status"] == "requires_payment"
    assert "Stripe could not be reached" in payment["note"]

    later = shop.api.command("POST", f"/v1/bookings/{placed['id']}/payment", ANN, "customer")
    assert_problem(later, 503, "payment-provider-unavailable")
    assert later.headers["Retry-After"]
    shop.worker.step()  # the saga tries, and fails
    shop.worker.step()
    [waiting] = [t for t in shop.container.payments.tasks.pending() if t["kind"] == "create_intent"]
    assert waiting["attempts"] >= 1 and "unavailable" in waiting["last_error"]
    assert shop.read_booking(placed["id"], ANN)["status"] == "pending_payment"

    stripe_later.start()
    stripe_later.send_webhooks_to(shop.live.webhook_url, SECRET)
    shop.clock.now += timedelta(minutes=2)  # past the retry's backoff, well within the hold
    shop.settle(lambda: shop.booking(placed["id"]).paid_online().intent_id is not None, "intent")

    resumed = shop.api.command("POST", f"/v1/bookings/{placed['id']}/payment", ANN, "customer")
    assert resumed.status_code == 200, resumed.text
    intent_id = resumed.json()["payment"]["payment_intent_id"]
    assert resumed.json()["payment"]["client_secret"].startswith(intent_id)
    assert stripe_later.pay(intent_id) == "succeeded"
    shop.settle(lambda: shop.booking(placed["id"]).status.value == "confirmed", "confirmation")
    assert [i["id"] for i in stripe_later.intents_of(placed["id"])] == [intent_id]


@pytest.fixture
def hung_stripe_shop(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    clock: FrozenClock,
    stripe_later: FakeStripe,
    token: Any,
) -> Iterator[Shop]:
    """Stripe's address accepts connections and never answers (a black hole)."""
    hole = FaultProxy("127.0.0.1", stripe_later.port).start()
    hole.black_hole()
    settings = paid_settings(backend, tmp_path, request, f"http://127.0.0.1:{hole.port}")
    settings = settings.model_copy(update={"stripe_request_timeout_seconds": 1.0})
    try:
        yield from open_shop(settings, clock, stripe_later, token, up=False)
    finally:
        hole.stop()


def test_a_hung_stripe_holds_the_booking_and_answers_within_the_request_timeout(
    hung_stripe_shop: Shop,
) -> None:
    salon = hung_stripe_shop.open_paid_salon()
    started = time.monotonic()

    placed = hung_stripe_shop.api.book(salon.service_id, TEN, expect=201).json()

    assert time.monotonic() - started < 4  # one try of 1 s, not three of 8 s
    assert placed["status"] == "pending_payment"
    assert placed["payment"]["client_secret"] is None
    assert placed["payment"]["note"]
