"""What the webhook process manager needs from the outside: its book, its queue, a sender."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.envelope import Envelope


@dataclass
class Subscription:
    """The manager's memory of one webhook: where, what, and which secrets sign."""

    id: str
    business_id: str
    url: str
    events: list[str]
    description: str = ""
    enabled: bool = True
    deleted: bool = False
    disabled_reason: str = ""
    # (secret id, valid until or None): the current secret first.
    secrets: list[tuple[str, datetime | None]] = field(default_factory=list)
    created_at: datetime | None = None


class DeliveryBook(Protocol):
    """Subscriptions and queued deliveries, written in the same transaction as the checkpoint."""

    def subscription(self, webhook_id: str) -> Subscription | None: ...

    def save(self, subscription: Subscription) -> None: ...

    def subscribers(self, business_id: str) -> list[Subscription]: ...

    def owner_of(self, subject: str) -> str | None: ...

    def remember_owner(self, subject: str, business_id: str) -> None: ...

    def enqueue(self, webhook_id: str, envelope: Envelope, batch_position: int) -> None:
        """Queue the envelope for the webhook (once: a redelivery adds nothing)."""

    def drop_pending(self, webhook_id: str) -> None: ...


class History(Protocol):
    """The log's public envelopes in `(after, before)`, in order (for replays)."""

    def __call__(self, after: int, before: int) -> Iterable[Envelope]: ...


@dataclass(frozen=True)
class Due:
    """The head of one webhook's queue, due now, claimed for one attempt."""

    delivery_id: str
    webhook_id: str
    event_id: str
    body: bytes
    url: str
    secret_ids: tuple[str, ...]
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class Answer:
    """What one HTTP attempt came to (`status` None: no answer: timeout, refused, ...)."""

    status: int | None
    duration_ms: int
    error: str = ""


class DeliveryQueue(Protocol):
    """Per-webhook queues of deliveries, worked head first."""

    def claim_heads(
        self, now: datetime, busy: set[str], limit: int, only: str | None = None
    ) -> list[Due]: ...

    def record(
        self,
        due: Due,
        answer: Answer,
        at: datetime,
        status: str,
        next_attempt_at: datetime | None,
    ) -> None: ...


class Sender(Protocol):
    """POSTs a body to an endpoint (https, public addresses, no redirects, timeouts)."""

    def send(self, url: str, headers: dict[str, str], body: bytes) -> Answer: ...


class SecretReader(Protocol):
    def reveal(self, secret_ids: Iterable[str]) -> list[str]: ...


class Disabler(Protocol):
    """Records on the webhook's aggregate that SlotWise gave up on it (its `disabled` event
    is what the notification worker emails the business about)."""

    def __call__(self, webhook_id: str, reason: str, event_id: str) -> None: ...
