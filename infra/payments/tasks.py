"""The payment saga's due tasks (the runner is infra/tasks.py's; this says what is Stripe's).

A task whose provider is unreachable waits with exponential backoff (capped)
and is never given up: the saga resumes when Stripe is back. A task Stripe
refuses (say, a refund of a charge already refunded in its Dashboard) is marked
failed at once, logged, and `slotwise payments tasks` shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, RowMapping

from commands.processes.payment.actions import PaymentActions, Task
from commands.processes.payment.provider import ProviderRefused, ProviderUnavailable
from infra.payments.tables import payment_tasks
from infra.tasks import FAILED, Outcome, TaskPolicy, TaskTable

__all__ = ["PaymentTasks", "TaskPolicy"]
log = logging.getLogger(__name__)


class PaymentTasks(TaskTable[Task]):
    """The saga's task table, worked through by one or more workers."""

    process = "payment"

    def __init__(
        self,
        engine: Engine,
        actions: PaymentActions,
        clock: Callable[[], datetime],
        policy: TaskPolicy | None = None,
    ) -> None:
        policy = policy or TaskPolicy(first_backoff_seconds=1.0)
        super().__init__(engine, payment_tasks, actions.run, _task, clock, policy)

    def judge(self, task: Task, error: Exception) -> Outcome | None:
        if isinstance(error, ProviderUnavailable):
            return self.retry(task, f"provider unavailable: {error}")
        if isinstance(error, ProviderRefused):  # asking again gets the same no: a person must look
            log.error("payment task %s (%s): Stripe refused: %s", task.id, task.kind, error)
            return Outcome(FAILED, f"Stripe refused: {error}")
        return None


def _task(row: RowMapping) -> Task:
    return Task(
        id=row["id"],
        kind=row["kind"],
        booking_id=row["booking_id"],
        payload=dict(row["payload"]),
        causation_id=row["causation_id"],
        correlation_id=row["correlation_id"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        failures=row["failures"],
    )
