"""The bookings projector's payment part: `booking_payments` rows, and the statuses they imply.

A row's status is derived from the money moved exactly as the Booking
aggregate derives it (`domain.payment.settled_status`), so the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from domain.envelope import Envelope
from domain.payment import PaymentStatus, settled_status
from projections.base import Handler, change_row
from projections.tables import booking_payments, bookings

ZERO = "0"


def payment_requested(conn: Connection, envelope: Envelope) -> None:
    conn.execute(
        insert(booking_payments).values(
            booking_id=envelope.subject,
            provider=envelope.text("provider"),
            payment_intent_id=None,
            amount=envelope.text("amount"),
            currency=envelope.text("currency"),
            status=PaymentStatus.REQUIRES_PAYMENT.value,
            received=ZERO,
            refunded=ZERO,
            refund_pending=ZERO,
            hold_expires_at=envelope.instant("hold_expires_at"),
            note=None,
            updated_at=envelope.occurred_at,
        )
    )


def intent_created(conn: Connection, envelope: Envelope) -> None:
    _change(conn, envelope, payment_intent_id=envelope.text("payment_intent_id"), note=None)


def intent_delayed(conn: Connection, envelope: Envelope) -> None:
    _change(conn, envelope, note=envelope.text("reason"))


def succeeded(conn: Connection, envelope: Envelope) -> None:
    _move(conn, envelope, lambda row: {"received": _sum(row["received"], envelope)})


def failed(conn: Connection, envelope: Envelope) -> None:
    failure = PaymentStatus.FAILED.value
    _change(conn, envelope, status=failure, note=envelope.text("reason"))


def canceled(conn: Connection, envelope: Envelope) -> None:
    row = _row(conn, envelope)
    if row["status"] == PaymentStatus.REQUIRES_PAYMENT.value:
        _change(conn, envelope, status=PaymentStatus.CANCELED.value)


def refund_requested(conn: Connection, envelope: Envelope) -> None:
    reason = envelope.text("reason")
    _move(conn, envelope, lambda row: {"refund_pending": _sum(row["refund_pending"], envelope)})
    _change(conn, envelope, note=reason)


def refunded(conn: Connection, envelope: Envelope) -> None:
    def moved(row: dict[str, Any]) -> dict[str, str]:
        pending = max(Decimal(0), Decimal(row["refund_pending"]) - envelope.decimal("amount"))
        return {"refunded": _sum(row["refunded"], envelope), "refund_pending": str(pending)}

    _move(conn, envelope, moved)


def expired(conn: Connection, envelope: Envelope) -> None:
    change_row(conn, bookings, envelope, status="expired")


HANDLERS: dict[str, Handler] = {
    "slotwise.booking.payment_requested": payment_requested,
    "slotwise.booking.payment_intent_created": intent_created,
    "slotwise.booking.payment_intent_delayed": intent_delayed,
    "slotwise.booking.payment_succeeded": succeeded,
    "slotwise.booking.payment_failed": failed,
    "slotwise.booking.payment_canceled": canceled,
    "slotwise.booking.refund_requested": refund_requested,
    "slotwise.booking.refunded": refunded,
    "slotwise.booking.expired": expired,
}


def _row(conn: Connection, envelope: Envelope) -> dict[str, Any]:
    found = conn.execute(
        select(booking_payments).where(booking_payments.c.booking_id == envelope.subject)
    ).one()
    return dict(found._mapping)


def _sum(current: str, envelope: Envelope) -> str:
    return str(Decimal(current) + envelope.decimal("amount"))


def _move(
    conn: Connection, envelope: Envelope, money: Callable[[dict[str, Any]], dict[str, str]]
) -> None:
    """Apply a money change, then derive the status from the new totals."""
    row = _row(conn, envelope)
    row.update(money(row))
    status = settled_status(
        PaymentStatus(row["status"]),
        Decimal(row["amount"]),
        Decimal(row["received"]),
        Decimal(row["refunded"]),
        Decimal(row["refund_pending"]),
    )
    changes = {k: row[k] for k in ("received", "refunded", "refund_pending")}
    _change(conn, envelope, status=status.value, **changes)


def _change(conn: Connection, envelope: Envelope, **values: Any) -> None:
    conn.execute(
        update(booking_payments)
        .where(booking_payments.c.booking_id == envelope.subject)
        .values(updated_at=envelope.occurred_at, **values)
    )
    # The booking row's version follows every event of the booking.
    conn.execute(
        update(bookings)
        .where(bookings.c.id == envelope.subject)
        .values(version=envelope.aggregateversion, updated_at=envelope.occurred_at)
    )
