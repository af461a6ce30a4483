"""The payment saga's consumer: turns payment events into tasks, exactly once.

It runs on the consumer runtime like a projector, so each task row is written
in the same transaction as the saga's checkpoint: a crash or a redelivery
never loses or doubles one. It calls nobody; `PaymentTasks` carries the tasks
out (timers at their due time, calls to Stripe until Stripe answers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.envelope import Envelope
from infra.payments.tables import payment_tasks

EXPIRE_HOLD, CREATE_INTENT, CANCEL_INTENT = "expire_hold", "create_intent", "cancel_intent"
REFUND, STRIPE_EVENT = "refund", "apply_stripe_event"
OPEN, DONE, SKIPPED, FAILED = "open", "done", "skipped", "failed"
# Work that becomes moot once a booking is confirmed, cancelled or expired.
MOOT_WHEN_SETTLED = (EXPIRE_HOLD, CREATE_INTENT)
Reaction = Callable[[Connection, Envelope], None]


class PaymentSaga:
    """The process manager's memory: what to do, for which booking, when, and why."""

    name = "payment_saga"
    tables: Sequence[Table] = (payment_tasks,)

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

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        self.reactions[envelope.type](conn, envelope)

    def payment_requested(self, conn: Connection, envelope: Envelope) -> None:
        # The timer that survives restarts: a row due when the hold ends.
        due = envelope.instant("hold_expires_at")
        schedule(conn, envelope, EXPIRE_HOLD, envelope.subject, due)

    def payment_delayed(self, conn: Connection, envelope: Envelope) -> None:
        schedule(conn, envelope, CREATE_INTENT, envelope.subject, self.clock())

    def settled(self, conn: Connection, envelope: Envelope) -> None:
        close(conn, envelope.subject, MOOT_WHEN_SETTLED, "the booking was confirmed")

    def hold_ended(self, conn: Connection, envelope: Envelope) -> None:
        close(conn, envelope.subject, MOOT_WHEN_SETTLED, "the hold ended")
        schedule(conn, envelope, CANCEL_INTENT, envelope.subject, self.clock())

    def cancelled(self, conn: Connection, envelope: Envelope) -> None:
        if not has_tasks(conn, envelope.subject):
            return  # a booking paid at the venue: nothing to do with the provider
        close(conn, envelope.subject, MOOT_WHEN_SETTLED, "the booking was cancelled")
        schedule(conn, envelope, CANCEL_INTENT, envelope.subject, self.clock())

    def refund_requested(self, conn: Connection, envelope: Envelope) -> None:
        payload = {
            k: envelope.data[k] for k in ("payment_intent_id", "amount", "currency", "reason")
        }
        schedule(conn, envelope, REFUND, envelope.subject, self.clock(), payload)

    def stripe_event(self, conn: Connection, envelope: Envelope) -> None:
        booking = envelope.text("booking_id")
        schedule(conn, envelope, STRIPE_EVENT, booking, self.clock(), dict(envelope.data))


def task_id(trigger_event_id: str, kind: str) -> str:
    return str(uuid5(UUID(trigger_event_id), kind))


def schedule(
    conn: Connection,
    trigger: Envelope,
    kind: str,
    booking_id: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    now = trigger.occurred_at
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        insert(payment_tasks)
        .values(
            id=task_id(trigger.id, kind),
            kind=kind,
            booking_id=booking_id,
            payload=payload or {},
            causation_id=trigger.id,
            correlation_id=trigger.correlationid,
            due_at=due_at,
            status=OPEN,
            attempts=0,
            failures=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


def close(conn: Connection, booking_id: str, kinds: Sequence[str], why: str) -> None:
    conn.execute(
        update(payment_tasks)
        .where(
            (payment_tasks.c.booking_id == booking_id)
            & payment_tasks.c.kind.in_(kinds)
            & (payment_tasks.c.status == OPEN)
        )
        .values(status=SKIPPED, last_error=why)
    )


def has_tasks(conn: Connection, booking_id: str) -> bool:
    found = conn.execute(
        select(payment_tasks.c.id).where(payment_tasks.c.booking_id == booking_id).limit(1)
    )
    return found.first() is not None
