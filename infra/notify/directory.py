"""The notifier's `Directory`: bookings and businesses read from the event store."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.app import SlotWise
from commands.processes.notify.ports import BookingFacts, BusinessFacts, WebhookFacts
from domain.booking import Booking
from domain.business import Business
from domain.notify import NotificationSettings
from domain.personal import Sealed
from domain.waitlist import WaitlistEntry
from domain.webhook import Webhook


class Opener(Protocol):
    def open_all(self, sealed: list[Sealed]) -> list[dict[str, Any] | None]: ...


class EventStoreDirectory:
    """A booking as it stood at a version (its contact opened now), a business as it is."""

    def __init__(self, app: SlotWise, keys: Opener) -> None:
        self.app, self.keys = app, keys

    def business(self, business_id: str) -> BusinessFacts | None:
        found = self._get(business_id)
        if not isinstance(found, Business):
            return None
        settings = found.notification_settings()
        return BusinessFacts(str(found.id), found.name, found.timezone, settings, found.address)

    def booking(self, booking_id: str, version: int) -> BookingFacts | None:
        now = self._get(booking_id)
        # Usually the intent is about the booking as it is: one read, not two.
        then = now if getattr(now, "version", None) == version else self._get(booking_id, version)
        if isinstance(then, WaitlistEntry) and isinstance(now, WaitlistEntry):
            return self._entry(then, now, version)
        if not isinstance(then, Booking) or not isinstance(now, Booking):
            return None
        return BookingFacts(
            id=str(then.id),
            business_id=str(then.business_id),
            version=version,
            status=then.status.value,
            start=then.start,
            end=then.end,
            service_name=then.service_name,
            contact=self._contact(then.personal_data),
            current_status=now.status.value,
        )

    def _entry(self, then: WaitlistEntry, now: WaitlistEntry, version: int) -> BookingFacts:
        """A waitlist entry as its offer message needs it."""
        return BookingFacts(
            id=str(then.id),
            business_id=str(then.business_id),
            version=version,
            status=then.status.value,
            start=then.start,
            end=then.end,
            service_name=then.service_name,
            contact=self._contact(then.personal_data),
            current_status=now.status.value,
            offer_expires_at=then.offer_expires_at,
        )

    def business_of(self, booking_id: str) -> str | None:
        found = self._get(booking_id)
        return str(found.business_id) if isinstance(found, Booking) else None

    def settings_at(self, business_id: str, version: int) -> NotificationSettings | None:
        found = self._get(business_id, version) if version >= 1 else None
        return found.notification_settings() if isinstance(found, Business) else None

    def webhook(self, webhook_id: str, version: int) -> WebhookFacts | None:
        found = self._get(webhook_id, version)
        if not isinstance(found, Webhook):
            return None
        return WebhookFacts(
            id=str(found.id),
            business_id=str(found.business_id),
            url=found.url,
            description=found.description,
            reason=found.disabled_reason,
            disabled_at=found.modified_on,
        )

    def _contact(self, sealed: Sealed | None) -> dict[str, Any] | None:
        if sealed is None:
            return None
        document = self.keys.open_all([sealed])[0]  # None once the customer was erased
        contact = (document or {}).get("contact")
        return dict(contact) if contact else None

    def _get(self, aggregate_id: str, version: int | None = None) -> Any:
        try:
            return self.app.repository.get(UUID(aggregate_id), version=version)
        except AggregateNotFoundError:
            return None
