"""BusinessStatsProjector: per business and local day, bookings, cancellations,
no-shows and revenue per currency.

Revenue counts the price of bookings paid at the venue that are neither
cancelled nor no-shows, and for bookings paid online the money captured minus
the money refunded (`projections.stats_payments`). A booking counts on the
local day of its start; a reschedule moves it, and its money, between days.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from domain.envelope import Envelope
from projections import stats_payments
from projections.base import DispatchingProjector, Handler
from projections.bookings import local_date
from projections.tables import (
    business_daily_payments,
    business_daily_revenue,
    business_daily_stats,
    stats_booking_facts,
    stats_booking_payments,
)

EARNING = frozenset({"pending", "confirmed", "checked_in", "completed"})


class BusinessStatsProjector(DispatchingProjector):
    name = "business_stats"
    # Many bookings meet in the per-day counters: one batch at a time, across workers.
    serial = True
    tables = (
        business_daily_stats,
        business_daily_revenue,
        stats_booking_facts,
        business_daily_payments,
        stats_booking_payments,
    )

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.booking.placed": self.placed,
            "slotwise.booking.rescheduled": self.rescheduled,
            "slotwise.booking.cancelled": self.cancelled,
            "slotwise.booking.marked_no_show": self.no_show,
            **stats_payments.handlers(self._count),
        }

    def placed(self, conn: Connection, envelope: Envelope) -> None:
        start, end = envelope.instant("start"), envelope.instant("end")
        fact: dict[str, Any] = {
            "booking_id": envelope.subject,
            "business_id": envelope.text("business_id"),
            "service_id": envelope.text("service_id"),
            "day": local_date(start, envelope.text("timezone")),
            "timezone": envelope.text("timezone"),
            "start": start,
            "minutes": int((end - start).total_seconds() // 60),
            "amount": envelope.text("price_amount"),
            "currency": envelope.text("currency"),
            # Paid online, it earns what is captured, not its price.
            "status": stats_payments.AWAITING_PAYMENT
            if envelope.data["status"] == "pending_payment"
            else "active",
        }
        conn.execute(insert(stats_booking_facts).values(**fact))
        self._count(conn, fact, bookings=1)
        self._earn(conn, fact, Decimal(fact["amount"]))

    def rescheduled(self, conn: Connection, envelope: Envelope) -> None:
        fact = self._fact(conn, envelope)
        self._count(conn, fact, bookings=-1)
        self._earn(conn, fact, -Decimal(fact["amount"]))
        start, end = envelope.instant("start"), envelope.instant("end")
        day = local_date(start, fact["timezone"])
        moved = {
            **fact,
            "day": day,
            "start": start,
            "minutes": int((end - start).total_seconds() // 60),
        }
        conn.execute(
            update(stats_booking_facts)
            .where(stats_booking_facts.c.booking_id == fact["booking_id"])
            .values(day=day, start=start, minutes=moved["minutes"])
        )
        stats_payments.move_money(conn, fact, day)
        self._count(conn, moved, bookings=1)
        self._earn(conn, moved, Decimal(fact["amount"]))

    def cancelled(self, conn: Connection, envelope: Envelope) -> None:
        self._leave(conn, envelope, "cancelled", cancellations=1)

    def no_show(self, conn: Connection, envelope: Envelope) -> None:
        self._leave(conn, envelope, "no_show", no_shows=1)

    def _leave(self, conn: Connection, envelope: Envelope, status: str, **counts: int) -> None:
        fact = self._fact(conn, envelope)
        self._count(conn, fact, **counts)
        self._earn(conn, fact, -Decimal(fact["amount"]))
        conn.execute(
            update(stats_booking_facts)
            .where(stats_booking_facts.c.booking_id == fact["booking_id"])
            .values(status=status)
        )

    def _fact(self, conn: Connection, envelope: Envelope) -> dict[str, Any]:
        row = conn.execute(
            select(stats_booking_facts).where(stats_booking_facts.c.booking_id == envelope.subject)
        ).one()
        return dict(row._mapping)

    def _count(self, conn: Connection, fact: dict[str, Any], **deltas: int) -> None:
        key = (business_daily_stats.c.business_id == fact["business_id"]) & (
            business_daily_stats.c.day == fact["day"]
        )
        if conn.execute(select(business_daily_stats.c.day).where(key)).first() is None:
            conn.execute(
                insert(business_daily_stats).values(
                    business_id=fact["business_id"],
                    day=fact["day"],
                    bookings=0,
                    cancellations=0,
                    no_shows=0,
                )
            )
        columns = business_daily_stats.c
        conn.execute(
            update(business_daily_stats)
            .where(key)
            .values({columns[name]: columns[name] + delta for name, delta in deltas.items()})
        )

    def _earn(self, conn: Connection, fact: dict[str, Any], amount: Decimal) -> None:
        if fact["status"] != "active":
            return
        table = business_daily_revenue
        key = (
            (table.c.business_id == fact["business_id"])
            & (table.c.day == fact["day"])
            & (table.c.currency == fact["currency"])
        )
        current = conn.execute(select(table.c.amount).where(key)).scalar_one_or_none()
        if current is None:
            conn.execute(
                insert(table).values(
                    business_id=fact["business_id"],
                    day=fact["day"],
                    currency=fact["currency"],
                    amount=str(amount),
                )
            )
        else:
            conn.execute(update(table).where(key).values(amount=str(Decimal(current) + amount)))
