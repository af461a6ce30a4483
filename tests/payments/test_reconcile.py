"""`slotwise payments reconcile`, run as an operator runs it, after Stripe's webhooks were lost.

localstripe sends each webhook once and never retries; here they all go to
an address where nobody listens. Reconciling asks Stripe about every open
payment and records what it says: a paid booking is confirmed, a declined
one released, one still unpaid left alone, and running it again changes
nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ANN, BOB, MONDAY, local
from tests.payments.conftest import SECRET, TEN, Shop
from tests.payments.fake_stripe import API_KEY

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.subprocess  # `slotwise reconcile`, and localstripe


def reconcile(shop: Shop) -> subprocess.CompletedProcess[str]:
    settings = shop.container.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update(
        SLOTWISE_DATA_DIR=str(settings.data_dir),
        SLOTWISE_JWT_SECRET=settings.jwt_secret,
        SLOTWISE_STRIPE_API_KEY=API_KEY,
        SLOTWISE_STRIPE_API_BASE=settings.stripe_api_base,
    )
    command = [sys.executable, "-m", "infra.cli", "payments", "reconcile"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_reconcile_records_what_stripe_knows_when_the_webhooks_were_lost(shop: Shop) -> None:
    shop.stripe.send_webhooks_to("http://127.0.0.1:9/nobody-listens", SECRET)
    salon = shop.open_paid_salon()
    paid = shop.api.book(salon.service_id, TEN, customer=ANN, expect=201).json()
    declined = shop.api.book(salon.service_id, local(MONDAY, 12), customer=BOB, expect=201).json()
    unpaid = shop.api.book(salon.service_id, local(MONDAY, 14), customer=BOB, expect=201).json()
    shop.stripe.pay(paid["payment"]["payment_intent_id"])
    shop.stripe.pay(declined["payment"]["payment_intent_id"], "pm_card_chargeCustomerFail")
    shop.api.query(f"/v1/bookings/{unpaid['id']}", BOB, consistency=shop.latest())  # read side
    assert shop.booking(paid["id"]).status.value == "pending_payment"  # nobody told SlotWise

    first = reconcile(shop)
    assert first.returncode == 0, first.stderr
    lines = {line.split("\t")[0]: line for line in first.stdout.splitlines()}
    assert "pending_payment/requires_payment -> confirmed/succeeded" in lines[paid["id"]]
    assert "pending_payment/requires_payment -> expired/failed" in lines[declined["id"]]
    assert (
        "pending_payment/requires_payment -> pending_payment/requires_payment"
        in lines[unpaid["id"]]
    )
    assert "3 open payments" in first.stderr

    written = shop.api.events()
    again = reconcile(shop)
    assert again.returncode == 0, again.stderr
    assert shop.api.events() == written  # what was recorded is not recorded twice
    assert shop.booking(paid["id"]).status.value == "confirmed"
    assert shop.booking(unpaid["id"]).status.value == "pending_payment"
