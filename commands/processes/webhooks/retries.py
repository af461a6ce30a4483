"""When to try a failed delivery again, and when to give up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff with jitter: ~2 s, 4 s, 8 s, … capped at an hour, for 3 days."""

    first_seconds: float = 2.0
    cap_seconds: float = 3600.0
    give_up_after: timedelta = timedelta(days=3)
    jitter: Callable[[], float] = random.random

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure (between half and all of the step)."""
        step = min(self.first_seconds * 2 ** max(attempts - 1, 0), self.cap_seconds)
        return timedelta(seconds=step * (0.5 + 0.5 * self.jitter()))

    def exhausted(self, first_attempt_at: datetime, now: datetime) -> bool:
        return now - first_attempt_at >= self.give_up_after
