"""The webhook worker: feeds the dispatcher from the event log and runs the deliverer.

`slotwise webhooks worker` runs one in the foreground (until `slotwise notify`
takes it in); `slotwise dev` runs one in a thread. Its position in the log is
the dispatcher's checkpoint in the event-store database, so a restarted worker
resumes where the last one stopped, queued retries included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine

from commands.app import SlotWise
from commands.processes.webhooks.deliverer import Deliverer
from commands.processes.webhooks.dispatcher import WebhookDispatcher
from commands.processes.webhooks.ports import Disabler
from commands.processes.webhooks.retries import RetrySchedule
from commands.webhook_messages import DisableWebhook
from domain.actor import system_actor
from domain.envelope import PUBLIC_AGGREGATE_TYPES, Envelope
from infra.background import PollingLoop
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.follower import catch_up, read_log
from infra.settings import Settings
from infra.webhooks.book import DispatchConsumer
from infra.webhooks.queue import SqlDeliveryQueue
from infra.webhooks.secrets import SqlWebhookSecrets
from infra.webhooks.sender import AddressGuard, HttpSender
from infra.webhooks.tables import metadata

ACTOR = system_actor("webhook-deliverer")


def history_of(
    recorder: ApplicationRecorder, mapper: Mapper[UUID]
) -> Callable[..., Iterator[Envelope]]:
    def history(after: int, before: int) -> Iterator[Envelope]:
        cursor = after
        while cursor < before - 1:
            batch = read_log(recorder, mapper, cursor, min(500, before - 1 - cursor))
            if not batch:
                return
            for delivery in batch:
                if delivery.offset >= before:
                    return
                if delivery.envelope.aggregatetype in PUBLIC_AGGREGATE_TYPES:
                    yield delivery.envelope
            cursor = batch[-1].offset

    return history


def disabler(app: SlotWise) -> Disabler:
    def disable(webhook_id: str, reason: str, event_id: str) -> None:
        app.handle(DisableWebhook(ACTOR, UUID(webhook_id), reason=reason, event_id=event_id))

    return disable


@dataclass
class Webhooks:
    """The dispatcher's runtime and the deliverer of one process."""

    runtime: ConsumerRuntime
    deliverer: Deliverer
    secrets: SqlWebhookSecrets
    engine: Engine


def build_webhooks(
    settings: Settings,
    app: SlotWise,
    engine: Engine,
    clock: Callable[[], datetime],
    schedule: RetrySchedule | None = None,
    sender: HttpSender | None = None,
) -> Webhooks:
    """Tables and checkpoint in the event-store database (`engine`)."""
    metadata.create_all(engine)
    dispatcher = WebhookDispatcher(history_of(app.recorder, app.mapper))
    retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
    runtime = ConsumerRuntime(engine, [DispatchConsumer(dispatcher)], retry)
    runtime.setup()
    secrets = SqlWebhookSecrets(engine)
    deliverer = Deliverer(
        SqlDeliveryQueue(engine),
        sender or HttpSender(AddressGuard(settings.webhooks_allow_private)),
        secrets,
        disabler(app),
        clock,
        schedule,
        settings.webhooks_concurrency,
    )
    return Webhooks(runtime, deliverer, secrets, engine)


class WebhookWorker(PollingLoop):
    """One loop: deliver new events to the dispatcher, then start due attempts."""

    name = "slotwise-webhooks"

    def __init__(self, webhooks: Webhooks, app: SlotWise, poll_seconds: float = 0.1) -> None:
        super().__init__(poll_seconds)
        self.webhooks, self.app = webhooks, app

    def step(self) -> int:
        """Catch the dispatcher up with the log, then start due attempts; returns both counts."""
        read = catch_up(self.app.recorder, self.app.mapper, self.webhooks.runtime)
        return read + self.webhooks.deliverer.dispatch()

    def stop(self) -> None:
        super().stop()
        self.webhooks.deliverer.close()
