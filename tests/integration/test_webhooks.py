"""Webhooks against a real endpoint on loopback: signed, in log order, retried, disabled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from commands.processes.webhooks.retries import RetrySchedule
from commands.webhook_messages import CreateWebhook, RotateWebhookSecret
from domain.actor import Role
from domain.webhook import InvalidWebhook, Webhook
from infra.bootstrap import Container, bootstrap
from infra.settings import Settings
from infra.webhooks.sender import AddressGuard, HttpSender
from infra.webhooks.worker import WebhookWorker, build_webhooks
from tests.conftest import JWT_SECRET, FrozenClock
from tests.unit.builders import ALICE, OWNER, book, new_york, open_salon
from tests.webhook_receiver import Receiver

BOOKINGS = ["slotwise.booking.*"]


@pytest.fixture
def hooks_container(tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    settings = Settings(
        data_dir=tmp_path / "data", jwt_secret=JWT_SECRET, webhooks_allow_private=True
    )
    built = bootstrap(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def worker(hooks_container: Container, clock: FrozenClock) -> Iterator[WebhookWorker]:
    assert hooks_container.event_store_tables is not None
    schedule = RetrySchedule(jitter=lambda: 1.0)  # the longest wait of each step
    hooks = build_webhooks(
        hooks_container.settings,
        hooks_container.app,
        hooks_container.event_store_tables,
        clock,
        schedule,
    )
    made = WebhookWorker(hooks, hooks_container.app)
    yield made
    made.webhooks.deliverer.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def pump(worker: WebhookWorker) -> None:
    """Run the worker until nothing more is due now."""
    for _ in range(200):
        worked = worker.step()
        worker.webhooks.deliverer.wait_idle()
        if not worked:
            return


def subscribe(container: Container, business_id: UUID, url: str) -> tuple[UUID, str]:
    done = container.app.handle(CreateWebhook(OWNER, business_id, url, tuple(BOOKINGS)))
    return done.id, str(done.fields["secret"])


def place(container: Container, service_id: UUID, count: int, day: int = 2) -> list[UUID]:
    return [book(container.app, ALICE, service_id, new_york(day, 9 + i)) for i in range(count)]


def test_delivers_signed_booking_events_in_log_order(
    hooks_container: Container, worker: WebhookWorker, receiver: Receiver
) -> None:
    business_id, service_id = open_salon(hooks_container.app, OWNER)
    _, secret = subscribe(hooks_container, business_id, receiver.url)
    booked = place(hooks_container, service_id, 5)
    pump(worker)
    got = receiver.delivered()
    assert [r.event["subject"] for r in got] == [str(b) for b in booked]
    assert all(r.event["type"] == "slotwise.booking.placed" for r in got)
    assert all(r.verifies_with(secret) for r in got)
    assert [r.headers["webhook-id"] for r in got] == [r.event["id"] for r in got]
    positions = [r.event["position"] for r in got]
    assert positions == sorted(positions)


def test_an_endpoint_down_for_a_day_gets_every_event_in_order_when_it_returns(
    hooks_container: Container, worker: WebhookWorker, receiver: Receiver, clock: FrozenClock
) -> None:
    business_id, service_id = open_salon(hooks_container.app, OWNER)
    webhook_id, secret = subscribe(hooks_container, business_id, receiver.url)
    receiver.fail_next = 10**6
    booked = place(hooks_container, service_id, 3)
    start = clock.now
    while clock.now - start < timedelta(days=1):
        pump(worker)
        clock.now += timedelta(minutes=10)
    tries = len(receiver.received)
    # Only the head is tried while it fails (log order): ~2 s, 4 s, … then hourly for a day.
    assert {r.event["subject"] for r in receiver.received} == {str(booked[0])}
    assert 25 <= tries <= 40
    receiver.fail_next = 0
    clock.now += timedelta(hours=1)
    pump(worker)
    got = receiver.delivered()
    assert [r.event["subject"] for r in got] == [str(b) for b in booked]
    assert all(r.verifies_with(secret) for r in got)
    webhook = hooks_container.app.repository.get(webhook_id)
    assert webhook.enabled


def test_retries_run_out_after_three_days_then_the_webhook_is_disabled(
    hooks_container: Container, worker: WebhookWorker, receiver: Receiver, clock: FrozenClock
) -> None:
    business_id, service_id = open_salon(hooks_container.app, OWNER)
    webhook_id, _ = subscribe(hooks_container, business_id, receiver.url)
    receiver.fail_next = 10**6
    place(hooks_container, service_id, 2)
    for _ in range(24 * 3 + 2):
        pump(worker)
        clock.now += timedelta(hours=1)
    webhook: Webhook = hooks_container.app.repository.get(webhook_id)
    assert not webhook.enabled and "dead-lettered" in webhook.disabled_reason
    tried = len(receiver.received)
    place(hooks_container, service_id, 1, day=22)
    clock.now += timedelta(hours=1)
    pump(worker)
    assert len(receiver.received) == tried  # a disabled webhook is left alone


def test_a_410_disables_the_webhook_at_once(
    hooks_container: Container, worker: WebhookWorker, receiver: Receiver
) -> None:
    business_id, service_id = open_salon(hooks_container.app, OWNER)
    webhook_id, _ = subscribe(hooks_container, business_id, receiver.url)
    receiver.gone = True
    place(hooks_container, service_id, 3)
    pump(worker)
    assert len(receiver.received) == 1
    webhook: Webhook = hooks_container.app.repository.get(webhook_id)
    assert not webhook.enabled and "410" in webhook.disabled_reason


def test_after_a_rotation_both_secrets_verify_for_a_day_then_only_the_new(
    hooks_container: Container, worker: WebhookWorker, receiver: Receiver, clock: FrozenClock
) -> None:
    business_id, service_id = open_salon(hooks_container.app, OWNER)
    webhook_id, old = subscribe(hooks_container, business_id, receiver.url)
    new = str(hooks_container.app.handle(RotateWebhookSecret(OWNER, webhook_id)).fields["secret"])
    place(hooks_container, service_id, 1)
    pump(worker)
    first = receiver.delivered()[-1]
    assert first.verifies_with(old) and first.verifies_with(new)
    clock.now += timedelta(hours=24, minutes=1)
    place(hooks_container, service_id, 1, day=4)
    pump(worker)
    second = receiver.delivered()[-1]
    assert second.verifies_with(new) and not second.verifies_with(old)


def test_a_slow_endpoint_does_not_delay_another_webhook(
    hooks_container: Container, worker: WebhookWorker, clock: FrozenClock
) -> None:
    slow, fast = Receiver(slow_seconds=3.0).start(), Receiver().start()
    try:
        business_id, service_id = open_salon(hooks_container.app, OWNER)
        subscribe(hooks_container, business_id, slow.url)
        subscribe(hooks_container, business_id, fast.url)
        place(hooks_container, service_id, 3)
        deadline = time.monotonic() + 2.0
        while len(fast.delivered()) < 3 and time.monotonic() < deadline:
            worker.step()
            time.sleep(0.02)
        assert len(fast.delivered()) == 3
        assert slow.delivered() == []
    finally:
        worker.webhooks.deliverer.wait_idle()
        slow.stop()
        fast.stop()


def test_private_and_loopback_addresses_are_refused_without_the_setting(
    receiver: Receiver,
) -> None:
    guard = AddressGuard(allow_private=False)
    for url in (
        receiver.url,
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
    ):
        with pytest.raises(InvalidWebhook):
            guard.check(url)
    # Also at delivery time (a name that resolves to loopback later: DNS rebinding).
    answer = HttpSender(guard).send("https://localhost:9/hook", {}, b"{}")
    assert answer.status is None and "private or local" in answer.error
    assert receiver.received == []


def test_secrets_are_never_in_the_event_store_or_the_listing(
    hooks_container: Container,
    worker: WebhookWorker,
    receiver: Receiver,
) -> None:
    from fastapi.testclient import TestClient

    from infra.auth import issue_token
    from read_api.app import create_app as read_app
    from write_api.app import create_app as write_app

    business_id, service_id = open_salon(hooks_container.app, OWNER)
    auth = {"Authorization": f"Bearer {issue_token(JWT_SECRET, OWNER.id, Role.OWNER)}"}
    with TestClient(write_app(hooks_container)) as client:
        created = client.post(
            f"/v1/businesses/{business_id}/webhooks",
            json={"url": receiver.url, "events": BOOKINGS, "description": "crm"},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_")
        rotated = client.post(f"/v1/webhooks/{created.json()['id']}/rotate-secret", headers=auth)
        assert rotated.status_code == 200
        bad = client.post(
            f"/v1/businesses/{business_id}/webhooks",
            json={"url": "ftp://x", "events": ["Bad Pattern"]},
            headers=auth,
        )
        assert bad.status_code == 422
    place(hooks_container, service_id, 1)
    pump(worker)
    records = hooks_container.app.recorder.select_notifications(start=1, limit=10_000)
    stored = b"".join(n.state for n in records)
    assert b"webhook" in stored  # the webhook's events are there, naming their secrets by id
    for shown in (secret, rotated.json()["secret"]):
        assert shown.removeprefix("whsec_").encode() not in stored
    hooks_container.catch_up()
    with TestClient(read_app(hooks_container)) as client:
        listing = client.get(f"/v1/businesses/{business_id}/webhooks", headers=auth)
        assert listing.status_code == 200
        assert secret not in listing.text and "whsec_" not in listing.text
        assert listing.json()["items"][0]["description"] == "crm"
        deliveries = client.get(f"/v1/webhooks/{created.json()['id']}/deliveries", headers=auth)
        attempt = deliveries.json()["items"][0]
        assert attempt["status_code"] == 204 and attempt["attempt"] == 1
        assert attempt["event_type"] == "slotwise.booking.placed"
