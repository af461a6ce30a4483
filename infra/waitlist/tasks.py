"""The waitlist's due tasks (sweeps, offers' timers): infra/tasks.py runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, RowMapping

from commands.processes.waitlist.actions import Task, WaitlistActions
from infra.tasks import TaskPolicy, TaskTable
from infra.waitlist.tables import waitlist_tasks

__all__ = ["TaskPolicy", "WaitlistTasks"]


class WaitlistTasks(TaskTable[Task]):
    """The process manager's task table, worked through by one or more workers."""

    process = "waitlist"

    def __init__(
        self,
        engine: Engine,
        actions: WaitlistActions,
        clock: Callable[[], datetime],
        policy: TaskPolicy | None = None,
    ) -> None:
        super().__init__(engine, waitlist_tasks, actions.run, _task, clock, policy)


def _task(row: RowMapping) -> Task:
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
