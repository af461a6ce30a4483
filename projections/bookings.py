"""BookingsProjector: bookings by id, by business and by customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert

from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import bookings


def local_date(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


STATUS_OF = {
    "Booking.Confirmed": "confirmed",
    "Booking.CheckedIn": "checked_in",
    "Booking.Completed": "completed",
    "Booking.MarkedNoShow": "no_show",
}


class BookingsProjector(DispatchingProjector):
    name = "bookings"
    tables = (bookings,)

    def handlers(self) -> dict[str, Handler]:
        moves: dict[str, Handler] = {name: self.status_changed for name in STATUS_OF}
        return {
            "Booking.Placed": self.placed,
            "Booking.Rescheduled": self.rescheduled,
            "Booking.Cancelled": self.cancelled,
            **moves,
        }

    def placed(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            insert(bookings).values(
                id=str(event.originator_id),
                business_id=str(event.business_id),
                service_id=str(event.service_id),
                customer_id=event.customer_id,
                placed_by=event.placed_by,
                start=event.start,
                end=event.end,
                local_date=local_date(event.start, event.timezone),
                timezone=event.timezone,
                status=str(event.status),
                service_name=event.service_name,
                price_amount=str(event.price_amount),
                currency=event.currency,
                notes=event.notes,
                cancel_reason=None,
                version=event.originator_version,
                created_at=event.timestamp,
                updated_at=event.timestamp,
            )
        )

    def rescheduled(self, conn: Connection, event: Any, position: int) -> None:
        row = conn.execute(bookings.select().where(bookings.c.id == str(event.originator_id))).one()
        change_row(
            conn,
            bookings,
            event,
            start=event.start,
            end=event.end,
            local_date=local_date(event.start, row.timezone),
        )

    def cancelled(self, conn: Connection, event: Any, position: int) -> None:
        change_row(conn, bookings, event, status="cancelled", cancel_reason=event.reason)

    def status_changed(self, conn: Connection, event: Any, position: int) -> None:
        change_row(conn, bookings, event, status=STATUS_OF[type(event).__qualname__])
