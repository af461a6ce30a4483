"""The payment saga's task runner: outages wait, refusals stop, leases keep workers apart.

The saga and its tasks run for real (SQLite table, the consumer runtime, the
domain); only Stripe is an in-memory stand-in here, so each kind of failure
can be produced on demand. The HTTP suites in tests/payments use a real fake.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from commands.app import SlotWise
from commands.messages import CancelBooking
from commands.payment_messages import ConfigurePayments, RecordPaymentSucceeded
from commands.processes.payment.actions import PaymentActions
from commands.processes.payment.checkout import Checkout
from commands.processes.payment.provider import (
    Intent,
    IntentRequest,
    ProviderRefused,
    ProviderUnavailable,
    RefundReceipt,
)
from domain.actor import system_actor
from domain.payment import PaymentSettings
from infra.consumers.runtime import ConsumerRuntime
from infra.follower import catch_up
from infra.payments.tables import metadata
from infra.payments.task_book import SagaConsumer
from infra.payments.tasks import PaymentTasks, TaskPolicy
from infra.readdb import sqlite_engine
from tests.unit.builders import ALICE, IN_MEMORY, OWNER, Clock, book, new_york, open_salon

SAGA = system_actor("payment-saga")
NOW = new_york(1, 7)


@dataclass
class StandInStripe:
    """Answers like Stripe, or fails the way the test asks."""

    mode: str = "up"  # up, down, refusing, broken
    refunds_made: list[str] = field(default_factory=list)

    def _check(self) -> None:
        if self.mode == "down":
            raise ProviderUnavailable("connection refused")
        if self.mode == "refusing":
            raise ProviderRefused("charge_already_refunded", "already refunded")
        if self.mode == "broken":
            raise RuntimeError("a bug")

    def create_intent(self, request: IntentRequest) -> Intent:
        self._check()
        return Intent("pi_1", "requires_payment_method", "pi_1_secret", 3000, 0, "USD")

    def retrieve_intent(self, intent_id: str) -> Intent:
        self._check()
        return Intent(intent_id, "succeeded", None, 3000, 3000, "USD")

    def cancel_intent(self, intent_id: str, idempotency_key: str) -> Intent:
        self._check()
        return Intent(intent_id, "canceled", None, 3000, 0, "USD")

    def refund(
        self, intent_id: str, amount_minor: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> RefundReceipt:
        self._check()
        self.refunds_made.append(idempotency_key)
        return RefundReceipt(f"re_{len(self.refunds_made)}", amount_minor, "succeeded", metadata)

    def refunds(self, intent_id: str) -> list[RefundReceipt]:
        self._check()
        return []


@dataclass
class Saga:
    app: SlotWise
    stripe: StandInStripe
    runtime: ConsumerRuntime
    clock: Clock

    def tasks(self, policy: TaskPolicy | None = None) -> PaymentTasks:
        checkout = Checkout(self.app, self.stripe)
        actions = PaymentActions(self.app, self.stripe, checkout)
        return PaymentTasks(self.runtime.engine, actions, self.clock, policy)

    def step(self, tasks: PaymentTasks) -> int:
        catch_up(self.app.recorder, self.app.mapper, self.runtime)
        return tasks.run_due()


@pytest.fixture
def saga(tmp_path: Path) -> Iterator[Saga]:
    clock = Clock(NOW)
    app = SlotWise(env=dict(IN_MEMORY), clock=clock)
    engine = sqlite_engine(f"sqlite:///{tmp_path / 'saga.sqlite'}", immediate=True)
    runtime = ConsumerRuntime(engine, [SagaConsumer(clock)])
    runtime.setup()
    metadata.create_all(engine)
    yield Saga(app, StandInStripe(), runtime, clock)
    engine.dispose()


def refund_owed(saga: Saga) -> UUID:
    """A paid booking, cancelled in time: a refund task is due."""
    business_id, service_id = open_salon(saga.app, OWNER)
    saga.app.handle(ConfigurePayments(OWNER, business_id, PaymentSettings(enabled=True)))
    booking_id = book(saga.app, ALICE, service_id, new_york(2, 9))
    saga.app.handle(RecordPaymentSucceeded(SAGA, booking_id, "pi_1", Decimal("30.00"), "USD"))
    saga.app.handle(CancelBooking(ALICE, booking_id, "flu"))
    return booking_id


def refund_task(tasks: PaymentTasks) -> dict[str, object]:
    [task] = [t for t in tasks.pending() if t["kind"] == "refund"]
    return task


def test_an_outage_only_delays_a_refund_and_the_waits_grow(saga: Saga) -> None:
    refund_owed(saga)
    tasks = saga.tasks()
    saga.stripe.mode = "down"
    waits = []
    for _ in range(4):
        saga.step(tasks)
        task = refund_task(tasks)
        waits.append(task["due_at"] - saga.clock())  # type: ignore[operator]
        saga.clock.advance(timedelta(minutes=5))
    assert waits == sorted(waits) and waits[0] < waits[-1]  # backing off
    assert refund_task(tasks)["status"] == "open"  # never given up
    saga.stripe.mode = "up"
    saga.step(tasks)
    assert [t for t in tasks.pending() if t["kind"] == "refund"] == []
    assert saga.stripe.refunds_made and len(saga.stripe.refunds_made) == 1


def test_a_refusal_is_parked_for_a_person_at_once(saga: Saga) -> None:
    refund_owed(saga)
    tasks = saga.tasks()
    saga.stripe.mode = "refusing"
    saga.step(tasks)
    task = refund_task(tasks)
    assert (task["status"], task["attempts"]) == ("failed", 1)
    assert "already refunded" in str(task["last_error"])


def test_a_bug_is_retried_a_bounded_number_of_times_then_parked(saga: Saga) -> None:
    refund_owed(saga)
    tasks = saga.tasks(TaskPolicy(max_unexpected_failures=2, first_backoff_seconds=0.001))
    saga.stripe.mode = "broken"
    saga.step(tasks)
    assert refund_task(tasks)["status"] == "open"
    saga.clock.advance(timedelta(seconds=1))
    saga.step(tasks)
    assert refund_task(tasks)["status"] == "failed"


def test_the_timer_of_a_booking_that_moved_on_never_fires(saga: Saga) -> None:
    booking_id = refund_owed(saga)
    tasks = saga.tasks()
    saga.step(tasks)  # the refund is made
    saga.clock.advance(timedelta(hours=1))  # the hold's timer would now be due: it was closed
    assert saga.step(tasks) == 0
    assert saga.app.repository.get(booking_id).paid_online().status.value == "refunded"


def test_two_workers_never_run_the_same_task(saga: Saga) -> None:
    refund_owed(saga)
    first, second = saga.tasks(), saga.tasks()
    catch_up(saga.app.recorder, saga.app.mapper, saga.runtime)
    claimed_first, claimed_second = first._claim(10), second._claim(10)
    assert {t.kind for t in claimed_first} == {"refund", "cancel_intent"}
    assert claimed_second == []  # leased to the first worker
