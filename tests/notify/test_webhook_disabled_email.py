"""The business is emailed, once, when SlotWise disables one of its webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from commands.processes.webhooks.retries import RetrySchedule
from infra.webhooks.worker import WebhookWorker, build_webhooks
from tests.e2e.conftest import OWNER, Salon
from tests.notify.conftest import BUSINESS_EMAIL, Post
from tests.notify.mailbox import text_part
from tests.notify.test_emails import book
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def hooks(post: Post) -> Iterator[WebhookWorker]:
    """The webhook worker of the notifier's store, stepped by the test."""
    container = post.container
    assert container.event_store_tables is not None
    schedule = RetrySchedule(jitter=lambda: 1.0)
    built = build_webhooks(
        container.settings, container.app, container.event_store_tables, post.clock, schedule
    )
    worker = WebhookWorker(built, container.app)
    yield worker
    built.deliverer.close()


def pump(worker: WebhookWorker) -> None:
    for _ in range(200):
        worked = worker.step()
        worker.webhooks.deliverer.wait_idle()
        if not worked:
            return


def subscribe(post: Post, salon: Salon, url: str, description: str = "CRM") -> str:
    body = {"url": url, "events": ["slotwise.booking.*"], "description": description}
    path = f"/v1/businesses/{salon.business_id}/webhooks"
    return str(post.api.command("POST", path, OWNER, "owner", body, 201).json()["id"])


def about_webhooks(post: Post) -> list[str]:
    return [
        text_part(m).replace("\r\n", "\n")
        for m in post.mailbox.messages
        if m["Subject"].startswith(("Webhook turned off", "Webhook abgeschaltet"))
    ]


@pytest.mark.parametrize("failure", ["410", "three days down"])
def test_the_business_is_emailed_once_when_slotwise_disables_a_webhook(
    post: Post, hooks: WebhookWorker, receiver: Receiver, failure: str
) -> None:
    salon = post.api.open_salon()
    locale = "de" if failure == "410" else "en"
    post.settings(salon, locale=locale)
    webhook_id = subscribe(post, salon, receiver.url)
    kept = subscribe(post, salon, receiver.url, description="turned off by its owner")
    path = f"/v1/webhooks/{kept}"
    post.api.command("PATCH", path, OWNER, "owner", {"enabled": False}, 200)
    if failure == "410":
        receiver.gone = True
    else:
        receiver.fail_next = 10**6
    book(post, salon.service_id)
    for _ in range(1 if failure == "410" else 24 * 3 + 2):
        pump(hooks)
        post.clock.now += timedelta(hours=1)
    post.deliver()
    post.deliver()  # a second pass sends nothing more

    [text] = about_webhooks(post)
    assert receiver.url in text and "(CRM)" in text and webhook_id in text
    if failure == "410":
        assert "Grund: the endpoint answered 410 Gone" in text
    else:
        assert "Why: no success in 72 hours: dead-lettered" in text
    [mail] = [m for m in post.mailbox.messages if m["Subject"].startswith("Webhook")]
    assert mail["To"] == BUSINESS_EMAIL
    assert all(part.get_content_type() != "text/calendar" for part in mail.walk())
    [entry] = [e for e in post.log(salon.business_id) if e["kind"] == "webhook_disabled"]
    assert (entry["webhook_id"], entry["booking_id"], entry["status"]) == (
        webhook_id,
        None,
        "sent",
    )


def test_without_a_notify_email_the_log_says_why_nobody_was_told(
    post: Post, hooks: WebhookWorker, receiver: Receiver
) -> None:
    salon = post.api.open_salon()
    webhook_id = subscribe(post, salon, receiver.url)
    receiver.gone = True
    book(post, salon.service_id)
    pump(hooks)
    post.deliver()
    assert about_webhooks(post) == []
    [entry] = [e for e in post.log(salon.business_id) if e["kind"] == "webhook_disabled"]
    assert entry["webhook_id"] == webhook_id and entry["status"] == "skipped"
    assert "notify_email" in entry["error"]
