"""Webhook: a business's subscription of an HTTPS endpoint to event types.

Its secret is never in an event: events name it by `secret_id` (the secret
lives in its own table next to the events). A rotation keeps the previous
secret valid until `previous_valid_until`, so receivers can switch over.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import Conflict, InvalidInput, NotFound

# A pattern is an event type with `*` wildcards: `slotwise.booking.*`, `*`.
PATTERN = re.compile(r"^[a-z0-9_.*]{1,100}$")
MAX_PATTERNS = 50


class WebhookNotFound(NotFound):
    code = "webhook-not-found"


class InvalidWebhook(InvalidInput):
    code = "invalid-webhook"


class WebhookDeleted(Conflict):
    code = "webhook-deleted"


def check_patterns(patterns: list[str]) -> list[str]:
    """The event type patterns, validated (a 422 names the bad one)."""
    if not patterns or len(patterns) > MAX_PATTERNS:
        raise InvalidWebhook(f"events: give 1 to {MAX_PATTERNS} type patterns", field="events")
    for pattern in patterns:
        if not PATTERN.match(pattern):
            raise InvalidWebhook(f"events: {pattern!r} is not a type pattern", field="events")
    return sorted(set(patterns))


def matches(patterns: list[str], event_type: str) -> bool:
    """Whether an event type is one a webhook subscribed to."""
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


class Webhook(Aggregate):
    """One endpoint of one business, with the event types it receives."""

    @event("Created")
    def __init__(
        self,
        id: UUID,
        business_id: UUID,
        url: str,
        events: list[str],
        description: str,
        secret_id: str,
    ) -> None:
        self.business_id, self.url, self.events = business_id, url, events
        self.description, self.secret_id = description, secret_id
        self.enabled, self.deleted = True, False
        self.disabled_reason = ""

    def require_live(self) -> None:
        if self.deleted:
            raise WebhookDeleted(f"webhook {self.id} was deleted")

    @event("Changed")
    def change(self, url: str, events: list[str], enabled: bool) -> None:
        self.url, self.events, self.enabled = url, events, enabled
        if enabled:
            self.disabled_reason = ""

    @event("SecretRotated")
    def rotate_secret(
        self, secret_id: str, previous_secret_id: str, previous_valid_until: datetime
    ) -> None:
        self.secret_id = secret_id

    @event("Disabled")
    def disable(self, reason: str, event_id: str) -> None:
        """SlotWise gave up on the endpoint (410, or retries ran out at `event_id`)."""
        self.enabled, self.disabled_reason = False, reason

    @event("ReplayRequested")
    def request_replay(self, after_position: int) -> None:
        pass

    @event("Deleted")
    def delete(self) -> None:
        self.deleted, self.enabled = True, False
