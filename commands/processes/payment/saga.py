"""The payment saga: turns payment events into tasks, exactly once.

It runs on the consumer runtime like a projector (through the adapter in
`infra.payments.task_book`), so each task is written in the same transaction
as the saga's checkpoint: a crash or a redelivery never loses or doubles one.
It calls nobody; `PaymentActions` carries the tasks out (timers at their due
time, calls to the provider until it answers).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid5

from commands.processes.payment.ports import TaskBook
from domain.envelope import Envelope

EXPIRE_HOLD, CREATE_INTENT, CANCEL_INTENT = "expire_hold", "create_intent", "cancel_intent"
REFUND, STRIPE_EVENT = "refund", "apply_stripe_event"
OPEN, DONE, SKIPPED, FAILED = "open", "done", "skipped", "failed"
# Work that becomes moot once a booking is confirmed, cancelled or expired.
MOOT_WHEN_SETTLED = (EXPIRE_HOLD, CREATE_INTENT)
Reaction = Callable[[TaskBook, Envelope], None]


def task_id(trigger_event_id: str, kind: str) -> str:
    """A task's id derives from the event that caused it: a redelivery meets its own task."""
    return str(uuid5(UUID(trigger_event_id), kind))


class PaymentSaga:
    """The process manager's memory: what to do, for which booking, when, and why."""

    name = "payment_saga"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.reactions: dict[str, Reaction] = {
            "slotwise.booking.payment_requested": self.payment_requested,
            "slotwise.booking.payment_intent_delayed": self.payment_delayed,
            "slotwise.booking.confirmed": self.settled,
            "slotwise.booking.expired": self.hold_ended,
            "slotwise.booking.cancelled": self.cancelled,
            "slotwise.booking.refund_requested": self.refund_requested,
            "slotwise.stripe_event.received": self.stripe_event,
        }

    def handles(self, event_type: str) -> bool:
        return event_type in self.reactions

    def react(self, tasks: TaskBook, envelope: Envelope) -> None:
        self.reactions[envelope.type](tasks, envelope)

    def payment_requested(self, tasks: TaskBook, envelope: Envelope) -> None:
        # The timer that survives restarts: a task due when the hold ends.
        due = envelope.instant("hold_expires_at")
        tasks.schedule(envelope, EXPIRE_HOLD, envelope.subject, due)

    def payment_delayed(self, tasks: TaskBook, envelope: Envelope) -> None:
        tasks.schedule(envelope, CREATE_INTENT, envelope.subject, self.clock())

    def settled(self, tasks: TaskBook, envelope: Envelope) -> None:
        tasks.close(envelope.subject, MOOT_WHEN_SETTLED, "the booking was confirmed")

    def hold_ended(self, tasks: TaskBook, envelope: Envelope) -> None:
        tasks.close(envelope.subject, MOOT_WHEN_SETTLED, "the hold ended")
        tasks.schedule(envelope, CANCEL_INTENT, envelope.subject, self.clock())

    def cancelled(self, tasks: TaskBook, envelope: Envelope) -> None:
        if not tasks.has_tasks(envelope.subject):
            return  # a booking paid at the venue: nothing to do with the provider
        tasks.close(envelope.subject, MOOT_WHEN_SETTLED, "the booking was cancelled")
        tasks.schedule(envelope, CANCEL_INTENT, envelope.subject, self.clock())

    def refund_requested(self, tasks: TaskBook, envelope: Envelope) -> None:
        payload = {
            k: envelope.data[k] for k in ("payment_intent_id", "amount", "currency", "reason")
        }
        tasks.schedule(envelope, REFUND, envelope.subject, self.clock(), payload)

    def stripe_event(self, tasks: TaskBook, envelope: Envelope) -> None:
        booking = envelope.text("booking_id")
        tasks.schedule(envelope, STRIPE_EVENT, booking, self.clock(), dict(envelope.data))
