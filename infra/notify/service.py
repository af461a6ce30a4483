"""Everything the notifier needs in one process, and the worker loop that runs it.

`slotwise notify` runs the worker in the foreground; `slotwise dev` runs it in
a thread. Its position in the log is its checkpoint in the event-store
database, so a restarted worker resumes where the last stopped, timers included.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import Engine

from commands.app import SlotWise
from commands.processes.notify.ports import Mailer, Texter
from commands.processes.notify.reactions import NotifyReactions
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.follower import catch_up
from infra.notify.consumer import NotifyConsumer
from infra.notify.directory import EventStoreDirectory, Opener
from infra.notify.feeds import CalendarFeeds
from infra.notify.runner import Deliveries, DeliveryPolicy
from infra.notify.tables import metadata
from infra.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Notify:
    """The notifier's consumer runtime (its checkpoint), its outbox runner and the feeds."""

    runtime: ConsumerRuntime
    deliveries: Deliveries
    feeds: CalendarFeeds
    engine: Engine


def mailer_from(settings: Settings) -> Mailer | None:
    if not settings.smtp_url:
        return None
    from infra.notify.smtp import SmtpMailer

    return SmtpMailer(settings.smtp_url, settings.mail_from)


def texter_from(settings: Settings) -> Texter | None:
    if not settings.sms_url:
        return None
    from infra.notify.sms import TwilioTexter

    return TwilioTexter(
        settings.sms_url, settings.sms_account_sid, settings.sms_auth_token, settings.sms_from
    )


def build_notify(
    settings: Settings,
    app: SlotWise,
    engine: Engine,
    keys: Opener,
    clock: Callable[[], datetime],
    mailer: Mailer | None = None,
    texter: Texter | None = None,
) -> Notify:
    """The notifier keeps its checkpoint and outbox in the event-store database (`engine`)."""
    directory = EventStoreDirectory(app, keys)
    retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
    runtime = ConsumerRuntime(engine, [NotifyConsumer(NotifyReactions(directory), clock)], retry)
    runtime.setup()
    metadata.create_all(engine)
    policy = DeliveryPolicy(lease_seconds=settings.notify_lease_seconds)
    deliveries = Deliveries(
        engine,
        directory,
        mailer or mailer_from(settings),
        texter or texter_from(settings),
        clock,
        parseaddr(settings.mail_from)[1].rpartition("@")[2] or "slotwise.invalid",
        policy,
    )
    return Notify(runtime, deliveries, CalendarFeeds(engine, clock), engine)


class NotifyWorker:
    """One loop: deliver new events to the notifier, then send what is due."""

    def __init__(self, notify: Notify, app: SlotWise, poll_seconds: float = 0.25) -> None:
        self.notify, self.app, self.poll_seconds = notify, app, poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        catch_up(self.app.recorder, self.app.mapper, self.notify.runtime)
        return self.notify.deliveries.run_due()

    def run(self) -> None:
        """Loop until `stop` (a database outage is waited out, not fatal)."""
        while not self._stop.is_set():
            try:
                worked = self.step()
            except Exception:
                log.exception("notification worker step failed; retrying")
                self._stop.wait(1.0)
                continue
            if not worked:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="slotwise-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        close = getattr(self.notify.deliveries.mailer, "close", None)
        if close is not None:  # the SMTP connection kept open between batches
            close()
