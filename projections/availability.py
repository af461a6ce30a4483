"""AvailabilityProjector: the time each live booking holds, for the read-side slot engine."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, update

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler
from projections.tables import allocations


class AvailabilityProjector(DispatchingProjector):
    name = "availability"
    tables = (allocations,)

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


def held_time(envelope: Envelope) -> dict[str, object]:
    names = ("start", "end", "occupied_start", "occupied_end")
    return {name: envelope.instant(name) for name in names}
