"""A payment hold's timer lives in the database: a worker killed mid-hold loses nothing.

Real processes on PostgreSQL: `slotwise payments worker` picks up the hold,
is SIGKILLed while it lasts, and a new worker started after the hold's end
expires the booking, frees its slot and cancels its PaymentIntent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from domain.booking import Booking
from infra.bootstrap import Container, bootstrap
from infra.consumers.tables import checkpoints
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import FrozenClock
from tests.e2e.conftest import Api, local
from tests.payments.conftest import SECRET, paid_settings
from tests.payments.fake_stripe import API_KEY, FakeStripe
from write_api.app import create_app as create_write_app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.subprocess, pytest.mark.slow]
HOLD_LEFT = timedelta(seconds=5)  # how long the hold still runs once the booking is placed


def a_monday_ahead() -> date:
    today = datetime.now(UTC).date() + timedelta(days=3)
    return today + timedelta(days=(7 - today.weekday()) % 7)


class WorkerProcess:
    """`python -m infra.cli payments worker` with the test's settings, stopped by its pid."""

    def __init__(self, settings: Settings, log: Path, *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
        env.update(
            SLOTWISE_EVENT_STORE=settings.event_store,
            SLOTWISE_READ_DB=settings.read_db,
            SLOTWISE_JWT_SECRET=settings.jwt_secret,
            SLOTWISE_STRIPE_API_KEY=API_KEY,
            SLOTWISE_STRIPE_API_BASE=settings.stripe_api_base,
            SLOTWISE_STRIPE_WEBHOOK_SECRET=SECRET,
            SLOTWISE_PAYMENTS_POLL_SECONDS="0.1",
            PYTHONUNBUFFERED="1",
        )
        self.log = log
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", "payments", "worker", *options],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def kill9(self) -> None:
        assert self.process.poll() is None, f"the worker died on its own:\n{self.tail()}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text()[-4000:]


def wait_for(
    check: Callable[[], bool], what: str, worker: WorkerProcess, seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}\n{worker.tail()}"
        time.sleep(0.05)


@pytest.fixture
def world(
    tmp_path: Path, request: pytest.FixtureRequest, fake_stripe: FakeStripe, token: Any
) -> Iterator[tuple[Container, Api, FrozenClock]]:
    fake_stripe.reset()
    clock = FrozenClock(datetime.now(UTC))
    settings = paid_settings("postgres", tmp_path, request, fake_stripe.url)
    container = bootstrap(settings, clock=clock)
    write = TestClient(create_write_app(container), raise_server_exceptions=False)
    read = TestClient(create_read_app(container), raise_server_exceptions=False)
    with write, read:
        yield container, Api(write, read, token, container), clock
    container.close()


def test_a_restart_in_the_middle_of_a_hold_still_expires_it(
    world: tuple[Container, Api, FrozenClock], tmp_path: Path, fake_stripe: FakeStripe
) -> None:
    container, api, clock = world
    salon = api.open_salon()
    api.command("PUT", f"/v1/businesses/{salon.business_id}/payments", "owner-a", "owner",
                {"enabled": True, "hold_minutes": 1}, expect=200)  # fmt: skip
    first = WorkerProcess(container.settings, tmp_path / "worker-1.log")
    second: WorkerProcess | None = None
    try:
        wait_for(lambda: saga_started(container), "the first worker to start", first)

        clock.now = datetime.now(UTC) - timedelta(minutes=1) + HOLD_LEFT
        placed = api.book(salon.service_id, local(a_monday_ahead(), 10), expect=201).json()
        hold_ends = datetime.fromisoformat(placed["hold_expires_at"])
        wait_for(lambda: hold_timer_set(container, placed["id"]), "the hold's timer", first)
        assert datetime.now(UTC) < hold_ends, "the worker was too slow to be killed mid-hold"
        first.kill9()

        time.sleep(max(0.0, (hold_ends - datetime.now(UTC)).total_seconds()) + 0.2)
        assert booking(container, placed["id"]).status.value == "pending_payment"  # nobody ran it

        second = WorkerProcess(container.settings, tmp_path / "worker-2.log")
        wait_for(
            lambda: booking(container, placed["id"]).status.value == "expired", "expiry", second
        )
        intent = placed["payment"]["payment_intent_id"]
        wait_for(lambda: fake_stripe.intent(intent)["status"] == "canceled", "the cancel", second)
        wait_for(
            lambda: booking(container, placed["id"]).paid_online().status.value == "canceled",
            "the cancel to be recorded",
            second,
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()


def saga_started(container: Container) -> bool:
    with container.payments.runtime.engine.connect() as conn:
        found = conn.execute(
            select(checkpoints.c.consumer).where(checkpoints.c.consumer == "payment_saga")
        )
        return found.first() is not None


def hold_timer_set(container: Container, booking_id: str) -> bool:
    return any(
        t["kind"] == "expire_hold" and t["booking_id"] == booking_id
        for t in container.payments.tasks.pending()
    )


def booking(container: Container, booking_id: str) -> Booking:
    found: Booking = container.app.repository.get(UUID(booking_id))
    return found
