"""The stats projector's payment part: money moved online, per business, day and currency.

A booking paid online earns what was captured minus what was refunded, on the
day of its appointment; the price it was booked at earns nothing by itself
(the `awaiting_payment` and `paid` facts are not `active`). A payment hold
that ended unpaid stops counting as a booking.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from domain.envelope import Envelope
from projections.base import Handler
from projections.tables import business_daily_payments, stats_booking_facts, stats_booking_payments

AWAITING_PAYMENT, PAID, EXPIRED = "awaiting_payment", "paid", "expired"
Count = Any  # the stats projector's `_count(conn, fact, **deltas)`


def fact_of(conn: Connection, booking_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(stats_booking_facts).where(stats_booking_facts.c.booking_id == booking_id)
    ).one()
    return dict(row._mapping)


def _set_status(conn: Connection, booking_id: str, status: str) -> None:
    conn.execute(
        update(stats_booking_facts)
        .where(stats_booking_facts.c.booking_id == booking_id)
        .values(status=status)
    )


def _money(conn: Connection, booking_id: str, currency: str) -> dict[str, Any]:
    found = conn.execute(
        select(stats_booking_payments).where(stats_booking_payments.c.booking_id == booking_id)
    ).first()
    if found is not None:
        return dict(found._mapping)
    row = {"booking_id": booking_id, "currency": currency, "captured": "0", "refunded": "0"}
    conn.execute(insert(stats_booking_payments).values(**row))
    return row


def add_to_day(
    conn: Connection, fact: dict[str, Any], currency: str, captured: Decimal, refunded: Decimal
) -> None:
    """Add money to the day of the booking's appointment (negative amounts take it away)."""
    table = business_daily_payments
    key = (
        (table.c.business_id == fact["business_id"])
        & (table.c.day == fact["day"])
        & (table.c.currency == currency)
    )
    current = conn.execute(select(table.c.captured, table.c.refunded).where(key)).first()
    if current is None:
        conn.execute(
            insert(table).values(
                business_id=fact["business_id"],
                day=fact["day"],
                currency=currency,
                captured=str(captured),
                refunded=str(refunded),
            )
        )
        return
    conn.execute(
        update(table)
        .where(key)
        .values(
            captured=str(Decimal(current.captured) + captured),
            refunded=str(Decimal(current.refunded) + refunded),
        )
    )


def _moved(conn: Connection, envelope: Envelope, field: str) -> None:
    fact, currency = fact_of(conn, envelope.subject), envelope.text("currency")
    money = _money(conn, envelope.subject, currency)
    amount = envelope.decimal("amount")
    conn.execute(
        update(stats_booking_payments)
        .where(stats_booking_payments.c.booking_id == envelope.subject)
        .values({field: str(Decimal(money[field]) + amount)})
    )
    captured = amount if field == "captured" else Decimal(0)
    add_to_day(conn, fact, currency, captured, amount - captured)
    if field == "captured" and fact["status"] == AWAITING_PAYMENT:
        _set_status(conn, envelope.subject, PAID)


def succeeded(conn: Connection, envelope: Envelope) -> None:
    _moved(conn, envelope, "captured")


def refunded(conn: Connection, envelope: Envelope) -> None:
    _moved(conn, envelope, "refunded")


def move_money(conn: Connection, fact: dict[str, Any], new_day: str) -> None:
    """A reschedule takes the booking's online money to its new day."""
    found = conn.execute(
        select(stats_booking_payments).where(
            stats_booking_payments.c.booking_id == fact["booking_id"]
        )
    ).first()
    if found is None or fact["day"] == new_day:
        return
    captured, refunded = Decimal(found.captured), Decimal(found.refunded)
    add_to_day(conn, fact, found.currency, -captured, -refunded)
    add_to_day(conn, {**fact, "day": new_day}, found.currency, captured, refunded)


def handlers(count: Count) -> dict[str, Handler]:
    def expired(conn: Connection, envelope: Envelope) -> None:
        fact = fact_of(conn, envelope.subject)
        count(conn, fact, bookings=-1)  # a hold that ended unpaid was never a booking
        _set_status(conn, envelope.subject, EXPIRED)

    return {
        "slotwise.booking.payment_succeeded": succeeded,
        "slotwise.booking.refunded": refunded,
        "slotwise.booking.expired": expired,
    }
