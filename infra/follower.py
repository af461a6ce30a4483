"""The embedded delivery: a thread that follows the notification log into the projectors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from projections.base import Delivery, ProjectionRunner

log = logging.getLogger(__name__)


def deliveries(
    recorder: ApplicationRecorder, mapper: Mapper[UUID], after: int, limit: int
) -> list[Delivery]:
    """The next events after position `after`, as (domain event, position) pairs."""
    notifications = recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    return [(mapper.to_domain_event(n), n.id) for n in notifications]


def catch_up(
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    runner: ProjectionRunner,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Project everything recorded so far; returns how many events were delivered."""
    delivered = 0
    position = runner.low_water_mark()
    while batch := deliveries(recorder, mapper, position, batch_size):
        runner.handle(batch)
        position = batch[-1][1]
        delivered += len(batch)
        if progress is not None:
            progress(len(batch))
    return delivered


class Follower:
    """Polls the notification log and hands new events to the runner until stopped."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        runner: ProjectionRunner,
        poll_seconds: float = 0.05,
    ) -> None:
        self.recorder, self.mapper, self.runner = recorder, mapper, runner
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="slotwise-follower", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Something was just written: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                catch_up(self.recorder, self.mapper, self.runner)
            except Exception:  # keep following; the next poll retries from tracking
                log.exception("projection follower failed; retrying")
                self._stop.wait(1.0)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
