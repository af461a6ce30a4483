"""A process manager's durable tasks: a table of them, claimed under a lease, run, recorded.

The payment saga and the waitlist each keep one (`infra/payments/tasks.py` and
`infra/waitlist/tasks.py` say what is particular to theirs). A task the domain
refuses (what it acts on moved on) is skipped with the reason; one that meets a
busy database or concurrent writers waits and is tried again; one that fails for
an unknown reason is retried with backoff, then marked failed (logged, and
listed by `slotwise <process> tasks`). A runner that dies holding a task leaves
it to whichever runner finds its lease expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Engine, RowMapping, Table, bindparam, or_, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.sql.elements import BindParameter

from domain.errors import DomainError

log = logging.getLogger(__name__)
# A task's status, as the process managers name them.
OPEN, DONE, SKIPPED, FAILED = "open", "done", "skipped", "failed"
# Errors of our own databases: not the task's fault, so never counted against it.
DATABASE_TROUBLE = (OperationalError, InterfaceError, DisconnectionError)


class Attempt(Protocol):
    """What the runner reads of a task (each process adds what its actions need)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def failures(self) -> int: ...


class NotYet(Protocol):
    """An action's "not due by this clock yet": run the task again at `due_at`."""

    @property
    def due_at(self) -> datetime: ...


T = TypeVar("T", bound=Attempt)


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str
    due_at: datetime | None = None
    tried: bool = True  # False when the task was only found not due yet
    unexpected: bool = False  # failed for a reason nobody foresaw (a bug)


class Backoff:
    """Exponential backoff, capped: the first pause, doubled for each attempt after it."""

    first_backoff_seconds: float
    max_backoff_seconds: float

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.first_backoff_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))


@dataclass(frozen=True)
class TaskPolicy(Backoff):
    lease_seconds: float = 60.0
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 60.0
    max_unexpected_failures: int = 10


class TaskTable(Generic[T]):
    """One process manager's task table, worked through by one or more workers.

    `run` carries a task out: a note on what it did, or a `NotYet`. `to_task` reads a
    row. A subclass may `judge` the errors only its actions raise (a provider's, say).
    """

    process = "process"  # names the tasks in logs

    def __init__(
        self,
        engine: Engine,
        table: Table,
        run: Callable[[T], str | NotYet],
        to_task: Callable[[RowMapping], T],
        clock: Callable[[], datetime],
        policy: TaskPolicy | None = None,
    ) -> None:
        self.engine, self.table, self.run, self.to_task = engine, table, run, to_task
        self.clock = clock
        self.policy = policy or TaskPolicy()
        # Built once: `run_due` asks it at every poll and every nudge of the worker.
        t = table.c
        now: BindParameter[datetime] = bindparam("now")
        self._due = (t.status == OPEN) & (t.due_at <= now)
        self._free = or_(t.lease_until.is_(None), t.lease_until < now)
        self._first_due = (
            select(table)
            .where(self._due & self._free)
            .order_by(t.due_at, t.created_at)
            .limit(bindparam("limit"))
        )
        self._take = (
            update(table)
            .where((t.id == bindparam("task_id")) & self._due & self._free)
            .values(lease_until=bindparam("lease"))
        )

    def run_due(self, limit: int = 50) -> int:
        """Carry out the tasks due now; returns how many were attempted."""
        claimed = self._claim(limit)
        for task in claimed:
            self._finish(task, self._attempt(task))
        return len(claimed)

    def judge(self, task: T, error: Exception) -> Outcome | None:
        """The outcome of an error particular to this process's actions; None: not one."""
        return None

    def retry(self, task: T, note: str, *, unexpected: bool = False) -> Outcome:
        due = self.clock() + self.policy.backoff(task.attempts + 1)
        log.warning("%s task %s (%s) will retry: %s", self.process, task.id, task.kind, note)
        return Outcome(OPEN, note, due, unexpected=unexpected)

    def _attempt(self, task: T) -> Outcome:
        try:
            result = self.run(task)
        except Exception as error:
            return self._failed(task, error)
        if isinstance(result, str):
            return Outcome(DONE, result)
        return Outcome(OPEN, "not due by this clock yet", result.due_at, tried=False)

    def _failed(self, task: T, error: Exception) -> Outcome:
        judged = self.judge(task, error)
        if judged is not None:
            return judged
        if isinstance(error, DomainError):
            if error.transient:  # concurrent writers won every try: nothing was done
                return self.retry(task, error.detail)
            return Outcome(SKIPPED, f"{error.code}: {error.detail}")
        if isinstance(error, DATABASE_TROUBLE):
            return self.retry(task, f"database: {type(error).__name__}")
        # A bug: bounded retries, then failed for a person to look at.
        log.error("%s task %s (%s) failed", self.process, task.id, task.kind, exc_info=error)
        note = f"{type(error).__name__}: {error}"
        if task.failures + 1 >= self.policy.max_unexpected_failures:
            return Outcome(FAILED, note, unexpected=True)
        return self.retry(task, note, unexpected=True)

    def _claim(self, limit: int) -> list[T]:
        now = self.clock()
        lease = now + timedelta(seconds=self.policy.lease_seconds)
        with self.engine.connect() as conn:
            rows = conn.execute(self._first_due, {"now": now, "limit": limit}).all()
        claimed = []
        for row in rows:
            with self.engine.begin() as conn:
                taken = conn.execute(self._take, {"task_id": row.id, "now": now, "lease": lease})
            if taken.rowcount == 1:  # another worker may have taken it in between
                claimed.append(self.to_task(row._mapping))
        return claimed

    def _finish(self, task: T, outcome: Outcome) -> None:
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
            conn.execute(update(self.table).where(self.table.c.id == task.id).values(values))

    def pending(self) -> list[dict[str, Any]]:
        """Open and failed tasks, oldest due first (`slotwise <process> tasks`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.table)
                .where(self.table.c.status.in_((OPEN, FAILED)))
                .order_by(self.table.c.due_at)
            )
            return [dict(r._mapping) for r in rows]
