"""Runs the payment saga's due tasks: claims each under a lease, acts, records the outcome.

A task whose provider is unreachable waits with exponential backoff (capped)
and is never given up: the saga resumes when Stripe is back. A task the
domain refuses (the booking moved on) is skipped with the reason. A task
Stripe refuses (say, a refund of a charge already refunded in its Dashboard)
is marked failed at once, and one that fails for an unknown reason after a
bounded number of retries; both are logged and `slotwise payments tasks`
shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from commands.processes.payment.actions import Later, PaymentActions, Task
from commands.processes.payment.provider import ProviderRefused, ProviderUnavailable
from commands.processes.payment.saga import DONE, FAILED, OPEN, SKIPPED
from domain.errors import DomainError
from infra.payments.tables import payment_tasks

log = logging.getLogger(__name__)
# Errors of our own databases: not the task's fault, so never counted against it.
DATABASE_TROUBLE = (OperationalError, InterfaceError, DisconnectionError)


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str
    due_at: datetime | None = None
    tried: bool = True  # False when the task was only found not due yet
    unexpected: bool = False  # failed for a reason nobody foresaw (a bug)


@dataclass(frozen=True)
class TaskPolicy:
    lease_seconds: float = 60.0
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_unexpected_failures: int = 10

    def backoff(self, attempts: int) -> timedelta:
        seconds = min(
            self.first_backoff_seconds * 2 ** max(attempts - 1, 0), self.max_backoff_seconds
        )
        return timedelta(seconds=seconds)


class PaymentTasks:
    """The saga's task table, worked through by one or more workers."""

    def __init__(
        self,
        engine: Engine,
        actions: PaymentActions,
        clock: Callable[[], datetime],
        policy: TaskPolicy | None = None,
    ) -> None:
        self.engine, self.actions, self.clock = engine, actions, clock
        self.policy = policy or TaskPolicy()

    def run_due(self, limit: int = 50) -> int:
        """Carry out the tasks due now; returns how many were attempted."""
        claimed = self._claim(limit)
        for task in claimed:
            self._finish(task, self._attempt(task))
        return len(claimed)

    def _attempt(self, task: Task) -> Outcome:
        try:
            result = self.actions.run(task)
        except ProviderUnavailable as error:
            return self._retry(task, f"provider unavailable: {error}")
        except ProviderRefused as error:  # asking again gets the same no: a person must look
            log.error("payment task %s (%s): Stripe refused: %s", task.id, task.kind, error)
            return Outcome(FAILED, f"Stripe refused: {error}")
        except DomainError as error:
            if error.transient:
                return self._retry(task, error.detail)
            return Outcome(SKIPPED, f"{error.code}: {error.detail}")
        except DATABASE_TROUBLE as error:
            return self._retry(task, f"database: {type(error).__name__}")
        except Exception as error:  # a bug: bounded retries, then parked for a person
            log.exception("payment task %s (%s) failed", task.id, task.kind)
            note = f"{type(error).__name__}: {error}"
            if task.failures + 1 >= self.policy.max_unexpected_failures:
                return Outcome(FAILED, note, unexpected=True)
            return self._retry(task, note, unexpected=True)
        if isinstance(result, Later):
            return Outcome(OPEN, "not due by this clock yet", result.due_at, tried=False)
        return Outcome(DONE, result)

    def _retry(self, task: Task, note: str, *, unexpected: bool = False) -> Outcome:
        due = self.clock() + self.policy.backoff(task.attempts + 1)
        log.warning("payment task %s (%s) will retry: %s", task.id, task.kind, note)
        return Outcome(OPEN, note, due, unexpected=unexpected)

    def _claim(self, limit: int) -> list[Task]:
        now = self.clock()
        free = or_(payment_tasks.c.lease_until.is_(None), payment_tasks.c.lease_until < now)
        due = (payment_tasks.c.status == OPEN) & (payment_tasks.c.due_at <= now) & free
        lease = now + timedelta(seconds=self.policy.lease_seconds)
        claimed = []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(payment_tasks)
                .where(due)
                .order_by(payment_tasks.c.due_at, payment_tasks.c.created_at)
                .limit(limit)
            ).all()
        for row in rows:
            with self.engine.begin() as conn:
                taken = conn.execute(
                    update(payment_tasks)
                    .where((payment_tasks.c.id == row.id) & due)
                    .values(lease_until=lease)
                )
            if taken.rowcount == 1:  # another worker may have taken it in between
                claimed.append(_task(row._mapping))
        return claimed

    def _finish(self, task: Task, outcome: Outcome) -> None:
        values: dict[str, Any] = {
            "status": outcome.status,
            "last_error": outcome.note[:2000],
            "lease_until": None,
            "updated_at": self.clock(),
            "attempts": task.attempts + (1 if outcome.tried else 0),
            "failures": task.failures + (1 if outcome.unexpected else 0),
        }
        if outcome.due_at is not None:
            values["due_at"] = outcome.due_at
        with self.engine.begin() as conn:
            conn.execute(update(payment_tasks).where(payment_tasks.c.id == task.id).values(values))

    def pending(self) -> list[dict[str, Any]]:
        """Open and failed tasks, oldest due first (`slotwise payments tasks`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(payment_tasks)
                .where(payment_tasks.c.status.in_((OPEN, FAILED)))
                .order_by(payment_tasks.c.due_at)
            )
            return [dict(r._mapping) for r in rows]


def _task(row: Any) -> Task:
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
