"""Payments against a real fake Stripe: localstripe as a server process, SlotWise over HTTP.

One localstripe process serves the session (emptied before each test). Each
test gets a SlotWise container on SQLite or PostgreSQL with the frozen clock,
the write API as a real HTTP server (localstripe posts its webhooks there),
in-process clients for commands and reads, the projector follower, and a
payment worker the test steps itself, so the order of events in a race is
the test's to choose.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import uvicorn
from fastapi.testclient import TestClient

from domain.booking import Booking
from domain.envelope import Envelope
from infra.bootstrap import Container, bootstrap
from infra.envelopes import envelope_from_record
from infra.eventlog import aggregate_history
from infra.payments.worker import PaymentWorker
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, FrozenClock
from tests.e2e.conftest import MONDAY, OWNER, Api, Salon, local
from tests.payments.fake_stripe import API_KEY, FakeStripe
from write_api.app import create_app as create_write_app

# Two secrets, as during a rotation; localstripe signs with the current one.
OLD_SECRET, SECRET = "whsec_old_0123456789", "whsec_current_0123456789"
TEN = local(MONDAY, 10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def fake_stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeStripe]:
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    server = FakeStripe(free_port(), log).start()
    yield server
    server.stop()


def paid_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, api_base: str
) -> Settings:
    if backend == "sqlite":
        stores: dict[str, Any] = {"data_dir": tmp_path / "data"}
    else:
        url = f"{request.getfixturevalue('postgres_dsn')}?schema="
        # A small pool: the machine's PostgreSQL takes 100 connections for everyone.
        url += f"{request.getfixturevalue('postgres_schema')}&pool_size=2&max_overflow=8"
        stores = {"event_store": url, "read_db": url}
    return Settings(
        **stores,
        jwt_secret=JWT_SECRET,
        stripe_api_key=API_KEY,
        stripe_api_base=api_base,
        stripe_webhook_secret=f"{OLD_SECRET},{SECRET}",
        stripe_timeout_seconds=5,
        stripe_max_network_retries=1,
    )


class LiveWriteApi:
    """The write API on a real port, in a thread, sharing the test's container."""

    def __init__(self, container: Container) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_write_app(container), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/payments/stripe/webhook"

    def start(self) -> LiveWriteApi:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the write API did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Shop:
    """The test's world: SlotWise, its HTTP faces, its payment worker and the fake Stripe."""

    api: Api
    container: Container
    worker: PaymentWorker
    stripe: FakeStripe
    clock: FrozenClock
    live: LiveWriteApi

    def open_paid_salon(self, hold_minutes: int = 15, **salon: Any) -> Salon:
        opened = self.api.open_salon(**salon)
        body = {"enabled": True, "hold_minutes": hold_minutes}
        owner = salon.get("owner", OWNER)
        path = f"/v1/businesses/{opened.business_id}/payments"
        self.api.command("PUT", path, owner, "owner", body, expect=200)
        return opened

    def booking(self, booking_id: str) -> Booking:
        found: Booking = self.container.app.repository.get(UUID(booking_id))
        return found

    def settle(self, until: Callable[[], bool], what: str, timeout: float = 20) -> None:
        """Step the payment worker (webhooks arrive on their own) until `until` holds."""
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                tasks = self.container.payments.tasks.pending()
                raise AssertionError(f"gave up waiting for {what}; open tasks: {tasks}")
            if not self.worker.step():
                time.sleep(0.05)

    def latest(self) -> str:
        """A consistency token covering everything written so far."""
        return str(self.container.app.recorder.max_notification_id() or 0)

    def read_booking(self, booking_id: str, sub: str, role: str = "customer") -> dict[str, Any]:
        path = f"/v1/bookings/{booking_id}"
        found: dict[str, Any] = self.api.query(path, sub, role, consistency=self.latest()).json()
        return found

    def stats(self, business_id: str, day: date = MONDAY) -> dict[str, Any]:
        """The business's stats for one day, as its owner reads them."""
        params = {"from": day.isoformat(), "to": day.isoformat()}
        path = f"/v1/businesses/{business_id}/stats"
        body = self.api.query(path, OWNER, "owner", self.latest(), params).json()
        found: dict[str, Any] = body["days"][0]
        return found

    def events_of(self, aggregate_id: str) -> list[Envelope]:
        """The aggregate's events as envelopes, straight from the event store."""
        records = aggregate_history(self.container.app.recorder, UUID(aggregate_id))
        return [envelope_from_record(r, self.container.app.mapper) for r in records]


def open_shop(
    settings: Settings, clock: FrozenClock, stripe_api: FakeStripe, token: Any, *, up: bool = True
) -> Iterator[Shop]:
    """SlotWise against `stripe_api`; `up=False` when that server is not running (yet)."""
    container = bootstrap(settings, clock=clock)
    live = LiveWriteApi(container).start()
    if up:
        stripe_api.send_webhooks_to(live.webhook_url, SECRET)
    container.start_follower()  # projectors only: the test steps the payment worker
    worker = PaymentWorker(container.payments, container.app.recorder, container.app.mapper)
    write = TestClient(create_write_app(container), raise_server_exceptions=False)
    read = TestClient(create_read_app(container), raise_server_exceptions=False)
    with write, read:
        yield Shop(Api(write, read, token, container), container, worker, stripe_api, clock, live)
    live.stop()
    container.close()


@pytest.fixture
def stripe_api(fake_stripe: FakeStripe) -> FakeStripe:
    fake_stripe.reset()
    return fake_stripe


@pytest.fixture
def shop(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    clock: FrozenClock,
    stripe_api: FakeStripe,
    token: Any,
) -> Iterator[Shop]:
    settings = paid_settings(backend, tmp_path, request, stripe_api.url)
    yield from open_shop(settings, clock, stripe_api, token)
