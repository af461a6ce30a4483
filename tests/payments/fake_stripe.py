"""A localstripe server process for tests, and what a test does with it as a customer would.

Started on 127.0.0.1 by `localstripe_server.py`, stopped by its pid. Webhooks
are registered with `send_webhooks_to`; localstripe signs them as Stripe does
and posts them about a second after the change, once (no retries).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import stripe

SERVER = Path(__file__).with_name("localstripe_server.py")
API_KEY = "sk_test_slotwise"
EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


class FakeStripe:
    """One localstripe process on `port`."""

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": self.url},
            http_client=stripe.RequestsClient(timeout=10),
        )

    def start(self) -> FakeStripe:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER), str(self.port)], stdout=sink, stderr=sink
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited:\n{self.log.read_text()[-4000:]}")
            try:
                httpx.delete(f"{self.url}/_config/data", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"localstripe did not answer:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def reset(self) -> None:
        httpx.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()

    def send_webhooks_to(self, url: str, secret: str) -> None:
        body = {"url": url, "secret": secret, "events": EVENTS}
        httpx.post(f"{self.url}/_config/webhooks/slotwise", json=body, timeout=5).raise_for_status()

    # -- what a customer's browser (Stripe.js) and an operator's dashboard would do ---

    def pay(self, intent_id: str, payment_method: str = "pm_card_visa") -> str:
        """Confirm the intent with a test card; returns the intent's status after it."""
        intents = self.client.v1.payment_intents
        intents.update(intent_id, {"payment_method": payment_method})
        try:
            return str(intents.confirm(intent_id).status)
        except stripe.CardError:
            return str(intents.retrieve(intent_id).status)

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.client.v1.payment_intents.retrieve(intent_id).to_dict()

    def intents_of(self, booking_id: str) -> list[dict[str, Any]]:
        found = self.client.v1.payment_intents.list({"limit": 100}).data
        every = [i.to_dict() for i in found]
        return [i for i in every if (i.get("metadata") or {}).get("booking_id") == booking_id]

    def refunds(self, intent_id: str) -> list[dict[str, Any]]:
        found = self.client.v1.refunds.list({"payment_intent": intent_id}).data
        return [r.to_dict() for r in found]
