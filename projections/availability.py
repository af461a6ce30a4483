"""AvailabilityProjector: the time each live booking holds, for the read-side slot engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, update

from projections.base import DispatchingProjector, Handler
from projections.tables import allocations


class AvailabilityProjector(DispatchingProjector):
    name = "availability"
    tables = (allocations,)

    def handlers(self) -> dict[str, Handler]:
        return {
            "Booking.Placed": self.placed,
            "Booking.Rescheduled": self.rescheduled,
            "Booking.Cancelled": self.released,
        }

    def placed(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            insert(allocations).values(
                booking_id=str(event.originator_id),
                business_id=str(event.business_id),
                service_id=str(event.service_id),
                start=event.start,
                end=event.end,
                occupied_start=event.occupied_start,
                occupied_end=event.occupied_end,
            )
        )

    def rescheduled(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            update(allocations)
            .where(allocations.c.booking_id == str(event.originator_id))
            .values(
                start=event.start,
                end=event.end,
                occupied_start=event.occupied_start,
                occupied_end=event.occupied_end,
            )
        )

    def released(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            delete(allocations).where(allocations.c.booking_id == str(event.originator_id))
        )
