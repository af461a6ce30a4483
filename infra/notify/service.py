"""Everything the notifier needs in one process, and the worker loop that runs it.

`slotwise notify` runs the worker in the foreground; `slotwise dev` runs it in
a thread. Its position in the log is its checkpoint in the event-store
database, so a restarted worker resumes where the last stopped, timers included.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import Engine

from commands.app import SlotWise
from commands.processes.notify.ports import Mailer, Texter
from commands.processes.notify.reactions import NotifyReactions
from infra.background import PollingLoop
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


class NotifyWorker(PollingLoop):
    """One loop: deliver new events to the notifier, then send what is due."""

    name = "slotwise-notify"

    def __init__(self, notify: Notify, app: SlotWise, poll_seconds: float = 0.25) -> None:
        super().__init__(poll_seconds)
        self.notify, self.app = notify, app

    def step(self) -> int:
        catch_up(self.app.recorder, self.app.mapper, self.notify.runtime)
        return self.notify.deliveries.run_due()

    def stop(self) -> None:
        super().stop()
        close = getattr(self.notify.deliveries.mailer, "close", None)
        if close is not None:  # the SMTP connection kept open between batches
            close()
