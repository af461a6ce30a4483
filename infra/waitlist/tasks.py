"""Runs the waitlist's due tasks: claims each under a lease, acts, records the outcome.

A task the domain refuses (the entry moved on) is skipped with the reason; one
that meets a busy database or concurrent writers waits and is tried again; one
that fails for an unknown reason is retried with backoff, then marked failed
(logged, and listed by `slotwise waitlist tasks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from commands.processes.waitlist.actions import Later, Task, WaitlistActions
from commands.processes.waitlist.process import DONE, FAILED, OPEN, SKIPPED
from domain.errors import DomainError
from infra.waitlist.tables import waitlist_tasks

log = logging.getLogger(__name__)
DATABASE_TROUBLE = (OperationalError, InterfaceError, DisconnectionError)


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str
    due_at: datetime | None = None
    tried: bool = True
    unexpected: bool = False


@dataclass(frozen=True)
class TaskPolicy:
    lease_seconds: float = 60.0
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 60.0
    max_unexpected_failures: int = 10

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.first_backoff_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))


class WaitlistTasks:
    """The process manager's task table, worked through by one or more workers."""

    def __init__(
        self,
        engine: Engine,
        actions: WaitlistActions,
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
        except DomainError as error:
            if error.transient:  # concurrent writers won every try: nothing was done
                return self._retry(task, error.detail)
            return Outcome(SKIPPED, f"{error.code}: {error.detail}")
        except DATABASE_TROUBLE as error:
            return self._retry(task, f"database: {type(error).__name__}")
        except Exception as error:  # a bug: bounded retries, then failed for a person
            log.exception("waitlist task %s (%s) failed", task.id, task.kind)
            note = f"{type(error).__name__}: {error}"
            if task.failures + 1 >= self.policy.max_unexpected_failures:
                return Outcome(FAILED, note, unexpected=True)
            return self._retry(task, note, unexpected=True)
        if isinstance(result, Later):
            return Outcome(OPEN, "not due by this clock yet", result.due_at, tried=False)
        return Outcome(DONE, result)

    def _retry(self, task: Task, note: str, *, unexpected: bool = False) -> Outcome:
        due = self.clock() + self.policy.backoff(task.attempts + 1)
        log.warning("waitlist task %s (%s) will retry: %s", task.id, task.kind, note)
        return Outcome(OPEN, note, due, unexpected=unexpected)

    def _claim(self, limit: int) -> list[Task]:
        now = self.clock()
        t = waitlist_tasks.c
        due = (t.status == OPEN) & (t.due_at <= now)
        free = or_(t.lease_until.is_(None), t.lease_until < now)
        lease = now + timedelta(seconds=self.policy.lease_seconds)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(waitlist_tasks)
                .where(due & free)
                .order_by(t.due_at, t.created_at)
                .limit(limit)
            ).all()
        claimed = []
        for row in rows:
            with self.engine.begin() as conn:
                taken = conn.execute(
                    update(waitlist_tasks)
                    .where((t.id == row.id) & due & free)
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
            conn.execute(
                update(waitlist_tasks).where(waitlist_tasks.c.id == task.id).values(values)
            )

    def pending(self) -> list[dict[str, Any]]:
        """Open and failed tasks, oldest due first (`slotwise waitlist tasks`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(waitlist_tasks)
                .where(waitlist_tasks.c.status.in_((OPEN, FAILED)))
                .order_by(waitlist_tasks.c.due_at)
            )
            return [dict(r._mapping) for r in rows]


def _task(row: Any) -> Task:
    return Task(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        causation_id=row["causation_id"],
        correlation_id=row["correlation_id"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        failures=row["failures"],
    )
