"""The bookings projector's payment part: `booking_payments` rows, and the statuses they imply.

A row's status is derived from the money moved exactly as the Booking
aggregate derives it (`domain.payment.settled_status`), so the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from domain.envelope import Envelope
from domain.payment import PaymentStatus, settled_status
from projections.base import Handler, change_row
from projections.tables import booking_payments, bookings
from projections.workspace import Workspace

ZERO = "0"


def payment_requested(ws: Workspace, envelope: Envelope) -> None:
    ws.insert(
        booking_payments,
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


def intent_created(ws: Workspace, envelope: Envelope) -> None:
    _change(ws, envelope, payment_intent_id=envelope.text("payment_intent_id"), note=None)


def intent_delayed(ws: Workspace, envelope: Envelope) -> None:
    _change(ws, envelope, note=envelope.text("reason"))


def succeeded(ws: Workspace, envelope: Envelope) -> None:
    _move(ws, envelope, lambda row: {"received": _sum(row["received"], envelope)})


def failed(ws: Workspace, envelope: Envelope) -> None:
    failure = PaymentStatus.FAILED.value
    _change(ws, envelope, status=failure, note=envelope.text("reason"))


def canceled(ws: Workspace, envelope: Envelope) -> None:
    row = _row(ws, envelope)
    if row["status"] == PaymentStatus.REQUIRES_PAYMENT.value:
        _change(ws, envelope, status=PaymentStatus.CANCELED.value)


def refund_requested(ws: Workspace, envelope: Envelope) -> None:
    reason = envelope.text("reason")
    _move(ws, envelope, lambda row: {"refund_pending": _sum(row["refund_pending"], envelope)})
    _change(ws, envelope, note=reason)


def refunded(ws: Workspace, envelope: Envelope) -> None:
    def moved(row: dict[str, Any]) -> dict[str, str]:
        pending = max(Decimal(0), Decimal(row["refund_pending"]) - envelope.decimal("amount"))
        return {"refunded": _sum(row["refunded"], envelope), "refund_pending": str(pending)}

    _move(ws, envelope, moved)


def expired(ws: Workspace, envelope: Envelope) -> None:
    change_row(ws, bookings, envelope, status="expired")


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


def _row(ws: Workspace, envelope: Envelope) -> dict[str, Any]:
    return dict(ws.one(booking_payments, envelope.subject))


def _sum(current: str, envelope: Envelope) -> str:
    return str(Decimal(current) + envelope.decimal("amount"))


def _move(
    ws: Workspace, envelope: Envelope, money: Callable[[dict[str, Any]], dict[str, str]]
) -> None:
    """Apply a money change, then derive the status from the new totals."""
    row = _row(ws, envelope)
    row.update(money(row))
    status = settled_status(
        PaymentStatus(row["status"]),
        Decimal(row["amount"]),
        Decimal(row["received"]),
        Decimal(row["refunded"]),
        Decimal(row["refund_pending"]),
    )
    changes = {k: row[k] for k in ("received", "refunded", "refund_pending")}
    _change(ws, envelope, status=status.value, **changes)


def _change(ws: Workspace, envelope: Envelope, **values: Any) -> None:
    ws.change(booking_payments, (envelope.subject,), updated_at=envelope.occurred_at, **values)
    # The booking row's version follows every event of the booking.
    change_row(ws, bookings, envelope)
