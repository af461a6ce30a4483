"""Building and running the production processes: the relay and projector workers."""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Protocol

from infra.bootstrap import Container
from infra.kafka.leader import LeaderLock
from infra.kafka.relay import Relay
from infra.kafka.worker import ProjectorWorker, group_for


class Stoppable(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


def libpq_url(container: Container) -> str:
    """The event store's URL as psycopg takes it (schema as search_path)."""
    return container.settings.event_store_sqlalchemy_url().replace(
        "postgresql+psycopg", "postgresql"
    )


def build_relay(container: Container) -> Relay:
    settings = container.settings
    assert container.event_store_tables is not None
    leader = LeaderLock(libpq_url(container), settings.kafka_topic_prefix)
    app = container.app
    return Relay(settings, app.recorder, app.mapper, container.event_store_tables, leader)


def build_worker(container: Container, names: Sequence[str] = ()) -> ProjectorWorker:
    """A worker for the named projectors (all when none are named)."""
    everyone = [c.name for c in container.runtime.consumers]
    chosen = list(names) or everyone
    runtime = container.runtime.only(chosen)
    return ProjectorWorker(
        container.settings, runtime, group_for(container.settings, chosen, everyone)
    )


def run_until_signalled(process: Stoppable) -> None:
    """Run in this thread; SIGTERM or SIGINT asks it to finish what it holds and return."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        process.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    process.run()
