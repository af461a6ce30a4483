"""The stats projector's payment part: money moved online, per business, day and currency.

A booking paid online earns what was captured minus what was refunded, on the
day of its appointment; the price it was booked at earns nothing by itself
(the `awaiting_payment` and `paid` facts are not `active`). A payment hold
that ended unpaid stops counting as a booking.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.envelope import Envelope
from projections.base import Handler
from projections.tables import business_daily_payments, stats_booking_facts, stats_booking_payments
from projections.workspace import Workspace

AWAITING_PAYMENT, PAID, EXPIRED = "awaiting_payment", "paid", "expired"
Count = Any  # the stats projector's `_count(ws, fact, **deltas)`


def fact_of(ws: Workspace, booking_id: str) -> dict[str, Any]:
    return dict(ws.one(stats_booking_facts, booking_id))


def _set_status(ws: Workspace, booking_id: str, status: str) -> None:
    ws.change(stats_booking_facts, (booking_id,), status=status)


def _money(ws: Workspace, booking_id: str, currency: str) -> dict[str, Any]:
    found = ws.get(stats_booking_payments, booking_id)
    if found is not None:
        return dict(found)
    row = {"booking_id": booking_id, "currency": currency, "captured": "0", "refunded": "0"}
    ws.put(stats_booking_payments, **row)
    return row


def add_to_day(
    ws: Workspace, fact: dict[str, Any], currency: str, captured: Decimal, refunded: Decimal
) -> None:
    """Add money to the day of the booking's appointment (negative amounts take it away)."""
    key = (fact["business_id"], fact["day"], currency)
    ws.add(business_daily_payments, key, captured=captured, refunded=refunded)


def _moved(ws: Workspace, envelope: Envelope, field: str) -> None:
    fact, currency = fact_of(ws, envelope.subject), envelope.text("currency")
    money = _money(ws, envelope.subject, currency)
    amount = envelope.decimal("amount")
    ws.change(
        stats_booking_payments, (envelope.subject,), **{field: str(Decimal(money[field]) + amount)}
    )
    captured = amount if field == "captured" else Decimal(0)
    add_to_day(ws, fact, currency, captured, amount - captured)
    if field == "captured" and fact["status"] == AWAITING_PAYMENT:
        _set_status(ws, envelope.subject, PAID)


def succeeded(ws: Workspace, envelope: Envelope) -> None:
    _moved(ws, envelope, "captured")


def refunded(ws: Workspace, envelope: Envelope) -> None:
    _moved(ws, envelope, "refunded")


def move_money(ws: Workspace, fact: dict[str, Any], new_day: str) -> None:
    """A reschedule takes the booking's online money to its new day."""
    found = ws.get(stats_booking_payments, fact["booking_id"])
    if found is None or fact["day"] == new_day:
        return
    captured, refunded = Decimal(found["captured"]), Decimal(found["refunded"])
    add_to_day(ws, fact, found["currency"], -captured, -refunded)
    add_to_day(ws, {**fact, "day": new_day}, found["currency"], captured, refunded)


def handlers(count: Count) -> dict[str, Handler]:
    def expired(ws: Workspace, envelope: Envelope) -> None:
        fact = fact_of(ws, envelope.subject)
        count(ws, fact, bookings=-1)  # a hold that ended unpaid was never a booking
        _set_status(ws, envelope.subject, EXPIRED)

    return {
        "slotwise.booking.payment_succeeded": succeeded,
        "slotwise.booking.refunded": refunded,
        "slotwise.booking.expired": expired,
    }
