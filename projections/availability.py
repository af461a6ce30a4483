"""AvailabilityProjector: the time each live booking holds, for the read-side slot engine."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, delete, insert, select, update

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler
from projections.tables import allocations, availability_stamps


class AvailabilityProjector(DispatchingProjector):
    name = "availability"
    # Events of many bookings meet in a stamp per business: one batch at a time, across workers.
    serial = True
    tables = (allocations, availability_stamps)

    def apply(self, conn: Connection, envelope: Envelope) -> None:
        business_id = business_of(conn, envelope)  # before a cancellation deletes the row
        super().apply(conn, envelope)
        if self.handles(envelope.type) and business_id:
            stamp(conn, business_id)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.booking.placed": self.placed,
            "slotwise.booking.rescheduled": self.rescheduled,
            "slotwise.booking.cancelled": self.released,
            "slotwise.booking.expired": self.released,  # a payment hold ended unpaid
        }

    def placed(self, conn: Connection, envelope: Envelope) -> None:
        conn.execute(
            insert(allocations).values(
                booking_id=envelope.subject,
                business_id=envelope.text("business_id"),
                service_id=envelope.text("service_id"),
                **held_time(envelope),
            )
        )

    def rescheduled(self, conn: Connection, envelope: Envelope) -> None:
        conn.execute(
            update(allocations)
            .where(allocations.c.booking_id == envelope.subject)
            .values(**held_time(envelope))
        )

    def released(self, conn: Connection, envelope: Envelope) -> None:
        conn.execute(delete(allocations).where(allocations.c.booking_id == envelope.subject))


def business_of(conn: Connection, envelope: Envelope) -> str:
    found = conn.execute(
        select(allocations.c.business_id).where(allocations.c.booking_id == envelope.subject)
    ).scalar_one_or_none()
    return str(found or envelope.data.get("business_id") or "")


def stamp(conn: Connection, business_id: str) -> None:
    """Give the business's allocations a new stamp (the read cache's keys move on)."""
    fresh = uuid.uuid4().hex
    key = availability_stamps.c.business_id == business_id
    if conn.execute(update(availability_stamps).where(key).values(stamp=fresh)).rowcount == 0:
        conn.execute(insert(availability_stamps).values(business_id=business_id, stamp=fresh))


def held_time(envelope: Envelope) -> dict[str, object]:
    names = ("start", "end", "occupied_start", "occupied_end")
    return {name: envelope.instant(name) for name in names}
