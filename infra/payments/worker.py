"""The payment worker: feeds the saga from the event log and runs its due tasks.

`slotwise payments worker` runs one in the foreground (production); the
embedded stack runs one in a thread beside the projector follower. Its
position in the log is the saga's checkpoint in the event-store database, so
a restarted worker resumes where the last one stopped, timers included.
"""

from __future__ import annotations

import logging
import threading
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from infra.follower import catch_up
from infra.payments.service import Payments

log = logging.getLogger(__name__)


class PaymentWorker:
    """One loop: deliver new events to the saga, then carry out what is due."""

    def __init__(
        self,
        payments: Payments,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        poll_seconds: float = 0.25,
    ) -> None:
        self.payments, self.recorder, self.mapper = payments, recorder, mapper
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Catch the saga up with the log, then run due tasks; returns tasks attempted."""
        catch_up(self.recorder, self.mapper, self.payments.runtime)
        return self.payments.tasks.run_due()

    def run(self) -> None:
        """Loop until `stop` is called (a database outage is waited out, not fatal)."""
        while not self._stop.is_set():
            try:
                worked = self.step()
            except Exception:
                log.exception("payment worker step failed; retrying")
                self._stop.wait(1.0)
                continue
            if not worked:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="slotwise-payments", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
