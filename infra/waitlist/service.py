"""Everything the waitlist process manager needs in one process, and its worker loop.

`slotwise waitlist` runs the worker in the foreground; `slotwise dev` (and a
read-api process without Kafka) runs it in a thread. Its position in the log
is its checkpoint in the event-store database, so a restarted worker resumes
where the last stopped, timers included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from commands.app import SlotWise
from commands.processes.waitlist.actions import WaitlistActions
from infra.background import PollingLoop
from infra.consumers.runtime import ConsumerRuntime, RetryPolicy
from infra.follower import catch_up
from infra.settings import Settings
from infra.waitlist.book import WaitingDaysInTable, WaitlistConsumer
from infra.waitlist.tables import metadata
from infra.waitlist.tasks import TaskPolicy, WaitlistTasks

# How long the progress over records the process does not react to may stay unwritten.
IDLE_SAVE_SECONDS = 5.0


@dataclass
class Waitlist:
    """The process manager's consumer runtime (its checkpoint) and its task runner."""

    runtime: ConsumerRuntime
    tasks: WaitlistTasks


def build_waitlist(
    settings: Settings, app: SlotWise, engine: Engine, clock: Callable[[], datetime]
) -> Waitlist:
    """The process keeps its checkpoint, tasks and watch list in the event-store database."""
    retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
    # Most records are none of the process's business: their progress is written now and then.
    runtime = ConsumerRuntime(
        engine, [WaitlistConsumer(clock)], retry, idle_save_seconds=IDLE_SAVE_SECONDS
    )
    runtime.setup()
    metadata.create_all(engine)
    actions = WaitlistActions(app, WaitingDaysInTable(engine))
    policy = TaskPolicy(lease_seconds=settings.waitlist_lease_seconds)
    return Waitlist(runtime, WaitlistTasks(engine, actions, clock, policy))


class WaitlistWorker(PollingLoop):
    """One loop: deliver new events to the process manager, then run what is due."""

    name = "slotwise-waitlist"

    def __init__(self, waitlist: Waitlist, app: SlotWise, poll_seconds: float = 0.25) -> None:
        super().__init__(poll_seconds)
        self.waitlist, self.app = waitlist, app

    def step(self) -> int:
        """Catch the process up with the log, then run due tasks; returns tasks attempted."""
        catch_up(self.app.recorder, self.app.mapper, self.waitlist.runtime)
        return self.waitlist.tasks.run_due()
