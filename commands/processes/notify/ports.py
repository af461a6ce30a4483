"""What the notification process manager needs from the outside, as small Protocols.

Adapters: infra/notify/ (the outbox table, the directory of bookings and
businesses, SMTP and the SMS API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.notify import NotificationSettings


@dataclass(frozen=True)
class Intent:
    """One message to send once: to `audience` over `channel`, about a booking at `version`
    (or, for `webhook_disabled`, about the webhook: its id stands in `booking_id`; for `offer`,
    the waitlist entry's id does)."""

    booking_id: str  # or a waitlist entry's id (kind "offer")
    business_id: str
    kind: str  # placed, confirmed, ..., "offer", "reminder:P1D", or webhook_disabled
    version: int
    channel: str  # email or sms
    audience: str  # customer or business
    due_at: datetime


@dataclass(frozen=True)
class BookingFacts:
    """The booking as it stood at one version, its contact opened (None: none or erased)."""

    id: str
    business_id: str
    version: int
    status: str
    start: datetime
    end: datetime
    service_name: str
    contact: dict[str, Any] | None
    current_status: str  # the booking's status now (a reminder of a cancelled one is moot)
    offer_expires_at: datetime | None = None  # a waitlist entry's offer: held until then


@dataclass(frozen=True)
class BusinessFacts:
    id: str
    name: str
    timezone: str
    settings: NotificationSettings = field(default_factory=NotificationSettings)
    address: str | None = None


@dataclass(frozen=True)
class WebhookFacts:
    """A webhook as it stood when SlotWise disabled it."""

    id: str
    business_id: str
    url: str
    description: str
    reason: str
    disabled_at: datetime


@dataclass(frozen=True)
class Upcoming:
    """A live booking the notifier keeps reminders for: its start and the version they are of."""

    booking_id: str
    business_id: str
    start: datetime
    version: int


class Outbox(Protocol):
    """The durable intents and timers, written in the same transaction as the checkpoint."""

    def plan(self, intent: Intent, cause: str) -> None:
        """Record the intent (once: a redelivery adds nothing)."""

    def replan(self, intent: Intent, cause: str) -> None:
        """Record the reminder, or plan again one that was skipped before it was ever sent
        (a removed offset added back); one planned or sent already stays as it is."""

    def drop_reminders(self, booking_id: str, why: str, keep: frozenset[str] = frozenset()) -> None:
        """Skip the booking's reminders not sent yet, but those of the kinds in `keep`."""

    def track(self, booking: Upcoming) -> None:
        """Remember a live booking (placed or moved) whose reminders may be planned again."""

    def untrack(self, booking_id: str) -> None:
        """The booking is over (cancelled, expired): no reminders for it any more."""

    def upcoming(self, business_id: str, after: datetime) -> list[Upcoming]:
        """The business's live bookings starting after `after`; forgets those before."""


class Directory(Protocol):
    """Reads the facts a message is made of (the event store, the personal-data keys)."""

    def business(self, business_id: str) -> BusinessFacts | None: ...

    def booking(self, booking_id: str, version: int) -> BookingFacts | None: ...

    def business_of(self, booking_id: str) -> str | None:
        """The booking's business (without opening any personal data)."""

    def webhook(self, webhook_id: str, version: int) -> WebhookFacts | None:
        """The webhook as it stood at `version` (None: not a webhook)."""

    def settings_at(self, business_id: str, version: int) -> NotificationSettings | None:
        """The business's notification settings as they stood at `version` (None: no such)."""


@dataclass(frozen=True)
class Email:
    message_id: str
    to: str
    subject: str
    text: str
    html: str
    ics: bytes | None  # the calendar attachment; None: a message about no booking
    ics_method: str


class Mailer(Protocol):
    """Sends one email; calls `committing` right before the server can accept it."""

    def send(self, email: Email, committing: Callable[[], None]) -> None: ...


class Texter(Protocol):
    """Sends one SMS; calls `committing` right before the provider can accept it."""

    def send(self, to: str, body: str, committing: Callable[[], None]) -> None: ...


class Transient(Exception):
    """The message was not accepted, and asking again later may work."""


class Refused(Exception):
    """The message was not accepted, and asking again gets the same answer."""
