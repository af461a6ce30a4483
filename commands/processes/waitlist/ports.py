"""What the waitlist process manager needs from storage: its task book and its watch list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from domain.envelope import Envelope


class WaitlistBook(Protocol):
    """The durable tasks and the entries in line, written with the process's checkpoint."""

    def schedule(self, trigger: Envelope, kind: str, key: str, due_at: datetime) -> None:
        """Add the task `kind` for `key` caused by `trigger` (once: a redelivery adds nothing;
        a sweep already waiting to run for `key` makes another one needless)."""

    def close(self, key: str, kinds: Sequence[str], why: str) -> None:
        """Skip the open tasks of these kinds for `key`, noting why."""

    def watch(self, entry_id: str, business_id: str, service_id: str, first_day: date) -> None:
        """Remember an entry in line (its business, service and first UTC day)."""

    def unwatch(self, entry_id: str) -> None:
        """Forget an entry that left the line."""

    def anyone_waiting(self) -> bool:
        """Whether any entry is in line anywhere (else nothing can be freed for anyone)."""

    def businesses_waited_at(
        self, business_id: str | None = None, service_id: str | None = None
    ) -> list[str]:
        """The businesses (of `business_id`, or of `service_id`'s entries) with entries in line."""


class WaitingDays(Protocol):
    """The days where a business's line starts (the action's read of the watch list)."""

    def __call__(self, business_id: str) -> list[date]: ...
