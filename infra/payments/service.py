"""Everything online payment needs in one process, built from settings by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from commands.app import SlotWise
from commands.messages import Command
from commands.processes.payment.actions import PaymentActions
from commands.processes.payment.checkout import Checkout, StartPayment, follow_ups
from commands.processes.payment.provider import PaymentProvider
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.payments.tables import metadata
from infra.payments.task_book import SagaConsumer
from infra.payments.tasks import PaymentTasks
from infra.settings import Settings


@dataclass
class Payments:
    """The provider (None until SLOTWISE_STRIPE_API_KEY is set), the saga and its tasks."""

    provider: PaymentProvider | None
    webhook_secrets: tuple[str, ...]
    runtime: ConsumerRuntime  # the saga's, on the event-store database
    checkout: Checkout  # the write API's: quick, a client is waiting
    tasks: PaymentTasks

    @property
    def follow_ups(self) -> dict[type[Command], StartPayment]:
        """PlaceBooking's follow-up, StartPayment (the write API runs it before answering)."""
        return follow_ups(self.checkout)

    @property
    def configured(self) -> bool:
        return self.provider is not None


def stripe_from(settings: Settings, *, in_request: bool = False) -> PaymentProvider | None:
    """The Stripe client, patient for background work, quick (`in_request`) where a client
    waits for the answer."""
    if not settings.stripe_api_key:
        return None
    # `stripe` comes with the `stripe` extra; a process without payments does not need it.
    from infra.payments.stripe_provider import StripeProvider

    if in_request:
        timeout, retries = settings.stripe_request_timeout_seconds, 0
    else:
        timeout, retries = settings.stripe_timeout_seconds, settings.stripe_max_network_retries
    return StripeProvider(settings.stripe_api_key, settings.stripe_api_base, timeout, retries)


def build_payments(
    settings: Settings,
    app: SlotWise,
    engine: Engine,
    clock: Callable[[], datetime],
    provider: PaymentProvider | None = None,
) -> Payments:
    """The saga keeps its checkpoint and tasks in the event-store database (`engine`)."""
    quick = provider or stripe_from(settings, in_request=True)
    provider = provider or stripe_from(settings)
    app.takes_payments = provider is not None
    retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
    runtime = ConsumerRuntime(engine, [SagaConsumer(clock)], retry)
    runtime.setup()
    metadata.create_all(engine)
    actions = PaymentActions(app, provider, Checkout(app, provider))
    tasks = PaymentTasks(engine, actions, clock)
    checkout = Checkout(app, quick)  # the write API's: a client is waiting
    return Payments(provider, settings.stripe_webhook_secrets, runtime, checkout, tasks)
