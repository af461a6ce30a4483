"""BookingsProjector: bookings by id, by business and by customer."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table

from domain.envelope import Envelope
from projections import booking_payments
from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import (
    booking_cancel_reasons,
    booking_personal_data,
    booking_resources,
    bookings,
)
from projections.tables import booking_payments as booking_payments_table
from projections.workspace import Workspace


def local_date(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


STATUS_OF = {
    "slotwise.booking.confirmed": "confirmed",
    "slotwise.booking.checked_in": "checked_in",
    "slotwise.booking.completed": "completed",
    "slotwise.booking.marked_no_show": "no_show",
}


class BookingsProjector(DispatchingProjector):
    name = "bookings"
    by_subject = (bookings, booking_payments_table, booking_personal_data, booking_cancel_reasons)
    tables = (*by_subject, booking_resources)

    def handlers(self) -> dict[str, Handler]:
        moves: dict[str, Handler] = {name: self.status_changed for name in STATUS_OF}
        return {
            "slotwise.booking.placed": self.placed,
            "slotwise.booking.rescheduled": self.rescheduled,
            "slotwise.booking.cancelled": self.cancelled,
            **moves,
            **booking_payments.HANDLERS,
        }

    def placed(self, ws: Workspace, envelope: Envelope) -> None:
        start, timezone = envelope.instant("start"), envelope.text("timezone")
        ws.insert(
            bookings,
            id=envelope.subject,
            business_id=envelope.text("business_id"),
            service_id=envelope.text("service_id"),
            customer_id=envelope.text("customer_id"),
            placed_by=envelope.text("placed_by"),
            start=start,
            end=envelope.instant("end"),
            local_date=local_date(start, timezone),
            timezone=timezone,
            status=envelope.text("status"),
            service_name=envelope.text("service_name"),
            price_amount=envelope.text("price_amount"),
            currency=envelope.text("currency"),
            notes=envelope.text("legacy_notes"),
            cancel_reason=None,
            version=envelope.aggregateversion,
            created_at=envelope.occurred_at,
            updated_at=envelope.occurred_at,
        )
        if envelope.data.get("resources") or envelope.data.get("series_id"):
            ws.insert(
                booking_resources,
                booking_id=envelope.subject,
                resources=envelope.data.get("resources") or [],
                series_id=envelope.data.get("series_id"),
            )
        keep_sealed(ws, booking_personal_data, envelope)

    def rescheduled(self, ws: Workspace, envelope: Envelope) -> None:
        timezone = ws.one(bookings, envelope.subject)["timezone"]
        start = envelope.instant("start")
        change_row(
            ws,
            bookings,
            envelope,
            start=start,
            end=envelope.instant("end"),
            local_date=local_date(start, timezone),
        )
        moved = envelope.data.get("resources") or []
        if moved:
            ws.change(booking_resources, (envelope.subject,), resources=moved)

    def cancelled(self, ws: Workspace, envelope: Envelope) -> None:
        # Plain only in events of earlier releases (v1); new reasons are sealed.
        reason = envelope.text("legacy_reason")
        change_row(ws, bookings, envelope, status="cancelled", cancel_reason=reason)
        keep_sealed(ws, booking_cancel_reasons, envelope)

    def status_changed(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, bookings, envelope, status=STATUS_OF[envelope.type])


def keep_sealed(ws: Workspace, table: Table, envelope: Envelope) -> None:
    """Copy the event's sealed personal data (ciphertext only) into `table`, if it has any."""
    sealed = envelope.data.get("personal_data")
    if sealed is not None:
        ws.insert(
            table,
            booking_id=envelope.subject,
            subject=sealed["subject"],
            key_version=sealed["key_version"],
            ciphertext=sealed["ciphertext"],
        )
