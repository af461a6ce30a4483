"""The webhook dispatcher: keeps the subscriptions and queues each public event for them.

It runs on the consumer runtime, so what it queues is written in the same
transaction as its checkpoint: a crash or a redelivery never loses or doubles a
delivery. It calls nobody; the `Deliverer` sends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from commands.processes.webhooks.ports import DeliveryBook, History, Subscription
from domain.envelope import PUBLIC_AGGREGATE_TYPES, Envelope
from domain.webhook import matches

Reaction = Callable[[DeliveryBook, Envelope], None]


class WebhookDispatcher:
    """Webhook events change subscriptions; public events become queued deliveries."""

    name = "webhook_dispatcher"

    def __init__(self, history: History) -> None:
        self.history = history
        self.reactions: dict[str, Reaction] = {
            "slotwise.webhook.created": self.created,
            "slotwise.webhook.changed": self.changed,
            "slotwise.webhook.secret_rotated": self.rotated,
            "slotwise.webhook.disabled": self.disabled,
            "slotwise.webhook.deleted": self.deleted,
            "slotwise.webhook.replay_requested": self.replay,
        }

    def handles(self, event_type: str) -> bool:
        return event_type in self.reactions or event_type.split(".")[1] in PUBLIC_AGGREGATE_TYPES

    def apply(self, book: DeliveryBook, envelope: Envelope) -> None:
        reaction = self.reactions.get(envelope.type, self.public)
        reaction(book, envelope)

    def created(self, book: DeliveryBook, envelope: Envelope) -> None:
        data = envelope.data
        book.save(
            Subscription(
                id=envelope.subject,
                business_id=str(data["business_id"]),
                url=str(data["url"]),
                events=list(data["events"]),
                description=str(data["description"]),
                secrets=[(str(data["secret_id"]), None)],
                created_at=envelope.occurred_at,
            )
        )

    def changed(self, book: DeliveryBook, envelope: Envelope) -> None:
        if (found := book.subscription(envelope.subject)) is not None:
            found.url, found.events = str(envelope.data["url"]), list(envelope.data["events"])
            found.enabled = bool(envelope.data["enabled"])
            found.disabled_reason = "" if found.enabled else "disabled by its owner"
            book.save(found)

    def rotated(self, book: DeliveryBook, envelope: Envelope) -> None:
        if (found := book.subscription(envelope.subject)) is not None:
            until = datetime.fromisoformat(str(envelope.data["previous_valid_until"]))
            found.secrets = [
                (str(envelope.data["secret_id"]), None),
                (str(envelope.data["previous_secret_id"]), until),
            ]
            book.save(found)

    def disabled(self, book: DeliveryBook, envelope: Envelope) -> None:
        if (found := book.subscription(envelope.subject)) is not None:
            found.enabled, found.disabled_reason = False, str(envelope.data["reason"])
            book.save(found)

    def deleted(self, book: DeliveryBook, envelope: Envelope) -> None:
        if (found := book.subscription(envelope.subject)) is not None:
            found.enabled, found.deleted = False, True
            book.save(found)
            book.drop_pending(found.id)

    def replay(self, book: DeliveryBook, envelope: Envelope) -> None:
        """Queue again what the webhook subscribed to after `after_position`, behind its queue."""
        found = book.subscription(envelope.subject)
        if found is None or found.deleted:
            return
        after = int(envelope.data["after_position"])
        for past in self.history(after, envelope.position):
            if self.owner(book, past) == found.business_id and matches(found.events, past.type):
                book.enqueue(found.id, past, envelope.position)

    def public(self, book: DeliveryBook, envelope: Envelope) -> None:
        business_id = self.owner(book, envelope)
        if business_id is None:
            return
        for subscription in book.subscribers(business_id):
            if subscription.enabled and matches(subscription.events, envelope.type):
                book.enqueue(subscription.id, envelope, envelope.position)

    def owner(self, book: DeliveryBook, envelope: Envelope) -> str | None:
        """The business an event belongs to (later booking events do not repeat it)."""
        if envelope.aggregatetype == "business":
            return envelope.subject
        if "business_id" in envelope.data:
            business_id = str(envelope.data["business_id"])
            if envelope.aggregateversion == 1:
                book.remember_owner(envelope.subject, business_id)
            return business_id
        return book.owner_of(envelope.subject)
