"""Notifications against a real SMTP server (aiosmtpd) on loopback, with a frozen clock.

Each test gets a SlotWise container, on SQLite and on PostgreSQL (the
`backend` fixture), whose notifier sends to the mailbox; the test steps the
notification worker itself, so when a reminder is due is the test's to choose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from infra.bootstrap import Container, bootstrap
from infra.notify.service import NotifyWorker
from infra.settings import Settings
from read_api.app import create_app as create_read_app
from tests.conftest import JWT_SECRET, FrozenClock, settings_for
from tests.e2e.conftest import OWNER, Api, Salon
from tests.notify.mailbox import Mailbox, smtp_url, start_mailbox
from write_api.app import create_app as create_write_app

CUSTOMER_EMAIL, BUSINESS_EMAIL = "ann@example.com", "desk@salon.example"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    controller, box = start_mailbox()
    yield controller, box
    controller.stop()


@dataclass
class Post:
    """The shop, its mailbox and the notification worker the test steps."""

    api: Api
    container: Container
    mailbox: Mailbox
    worker: NotifyWorker
    clock: FrozenClock
    config: Settings
    restarted: list[Container]

    def deliver(self) -> int:
        """Projectors and notifier catch up; send whatever is due by the clock."""
        self.api.settle()
        sent = 0
        while (done := self.worker.step()) > 0:
            sent += done
        return sent

    def restart_worker(self) -> None:
        """A new notifier process on the same store: nothing carried over but the database."""
        container = bootstrap(self.config, clock=self.clock)
        self.restarted.append(container)
        assert container.notify is not None
        self.worker = NotifyWorker(container.notify, container.app)

    def log(self, business_id: str) -> list[dict[str, Any]]:
        path = f"/v1/businesses/{business_id}/notifications"
        items: list[dict[str, Any]] = self.api.query(path, OWNER, "owner").json()["items"]
        return items

    def settings(self, salon: Salon, **body: Any) -> None:
        path = f"/v1/businesses/{salon.business_id}/notifications"
        full = {"notify_email": BUSINESS_EMAIL, "reminders": [], **body}
        self.api.command("PUT", path, OWNER, "owner", full, 200)


def notify_settings(tmp_path: Path, smtp_address: str, **more: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        jwt_secret=JWT_SECRET,
        smtp_url=smtp_address,
        mail_from="Salon Bookings <bookings@salon.example>",
        webhooks_allow_private=True,  # the webhook tests' receiver is on loopback
        **more,
    )


def post_settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, smtp_address: str
) -> Settings:
    """The store of `backend` (a fresh PostgreSQL schema), sending to `smtp_address`."""
    if backend == "sqlite":
        return notify_settings(tmp_path, smtp_address)
    store = settings_for(backend, tmp_path, request)
    return notify_settings(
        tmp_path, smtp_address, event_store=store.event_store, read_db=store.read_db
    )


@pytest.fixture
def post(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    clock: FrozenClock,
    token: Any,
    smtp: tuple[Controller, Mailbox],
) -> Iterator[Post]:
    controller, box = smtp
    config = post_settings(backend, tmp_path, request, smtp_url(controller))
    container = bootstrap(config, clock=clock)
    container.start_follower()
    assert container.notify is not None
    worker = NotifyWorker(container.notify, container.app)
    write = TestClient(create_write_app(container), raise_server_exceptions=False)
    read = TestClient(create_read_app(container), raise_server_exceptions=False)
    with write, read:
        api = Api(write, read, token, container)
        restarted: list[Container] = []
        yield Post(api, container, box, worker, clock, config, restarted)
        for other in restarted:
            other.close()
    container.close()
