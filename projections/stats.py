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
from projections.workspace import Workspace

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
    by_subject = (stats_booking_facts, stats_booking_payments)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.booking.placed": self.placed,
            "slotwise.booking.rescheduled": self.rescheduled,
            "slotwise.booking.cancelled": self.cancelled,
            "slotwise.booking.marked_no_show": self.no_show,
            **stats_payments.handlers(self._count),
        }

    def placed(self, ws: Workspace, envelope: Envelope) -> None:
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
        ws.insert(stats_booking_facts, **fact)
        self._count(ws, fact, bookings=1)
        self._earn(ws, fact, Decimal(fact["amount"]))

    def rescheduled(self, ws: Workspace, envelope: Envelope) -> None:
        fact = stats_payments.fact_of(ws, envelope.subject)
        self._count(ws, fact, bookings=-1)
        self._earn(ws, fact, -Decimal(fact["amount"]))
        start, end = envelope.instant("start"), envelope.instant("end")
        day = local_date(start, fact["timezone"])
        minutes = int((end - start).total_seconds() // 60)
        moved = {**fact, "day": day, "start": start, "minutes": minutes}
        ws.change(stats_booking_facts, (fact["booking_id"],), day=day, start=start, minutes=minutes)
        stats_payments.move_money(ws, fact, day)
        self._count(ws, moved, bookings=1)
        self._earn(ws, moved, Decimal(fact["amount"]))

    def cancelled(self, ws: Workspace, envelope: Envelope) -> None:
        self._leave(ws, envelope, "cancelled", cancellations=1)

    def no_show(self, ws: Workspace, envelope: Envelope) -> None:
        self._leave(ws, envelope, "no_show", no_shows=1)

    def _leave(self, ws: Workspace, envelope: Envelope, status: str, **counts: int) -> None:
        fact = stats_payments.fact_of(ws, envelope.subject)
        self._count(ws, fact, **counts)
        self._earn(ws, fact, -Decimal(fact["amount"]))
        ws.change(stats_booking_facts, (fact["booking_id"],), status=status)

    def _count(self, ws: Workspace, fact: dict[str, Any], **deltas: int) -> None:
        ws.add(business_daily_stats, (fact["business_id"], fact["day"]), **deltas)

    def _earn(self, ws: Workspace, fact: dict[str, Any], amount: Decimal) -> None:
        if fact["status"] == "active":
            key = (fact["business_id"], fact["day"], fact["currency"])
            ws.add(business_daily_revenue, key, amount=amount)
