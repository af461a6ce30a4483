"""The payment worker: feeds the saga from the event log and runs its due tasks.

`slotwise payments worker` runs one in the foreground (production); the
embedded stack runs one in a thread beside the projector follower. Its
position in the log is the saga's checkpoint in the event-store database, so
a restarted worker resumes where the last one stopped, timers included.
"""

from __future__ import annotations

import logging
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from infra.background import PollingLoop
from infra.follower import catch_up
from infra.payments.service import Payments

log = logging.getLogger(__name__)


class PaymentWorker(PollingLoop):
    """One loop: deliver new events to the saga, then carry out what is due."""

    name = "slotwise-payments"

    def __init__(
        self,
        payments: Payments,
        recorder: ApplicationRecorder,
        mapper: Mapper[UUID],
        poll_seconds: float = 0.25,
    ) -> None:
        super().__init__(poll_seconds)
        self.payments, self.recorder, self.mapper = payments, recorder, mapper

    def step(self) -> int:
        """Catch the saga up with the log, then run due tasks; returns tasks attempted."""
        catch_up(self.recorder, self.mapper, self.payments.runtime)
        return self.payments.tasks.run_due()
