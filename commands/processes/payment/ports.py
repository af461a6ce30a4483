"""What the payment process manager needs from storage: its task book and the open payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.envelope import Envelope


class TaskBook(Protocol):
    """The durable task table, written in the same transaction as the saga's checkpoint."""

    def schedule(
        self,
        trigger: Envelope,
        kind: str,
        booking_id: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Add the task `kind` caused by `trigger` (once: a redelivery adds nothing)."""

    def close(self, booking_id: str, kinds: Sequence[str], why: str) -> None:
        """Skip the booking's open tasks of these kinds, noting why."""

    def has_tasks(self, booking_id: str) -> bool:
        """Whether the booking ever had a payment task."""


class OpenPayments(Protocol):
    """The bookings whose payment is open, or that still wait for payment (the read model)."""

    def __call__(self) -> list[UUID]: ...
