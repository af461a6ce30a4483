"""BusinessDirectoryProjector: business profiles, looked up by id or slug."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import businesses


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class BusinessDirectoryProjector(DispatchingProjector):
    name = "business_directory"
    tables = (businesses,)

    def handlers(self) -> dict[str, Handler]:
        return {
            "Business.Registered": self.registered,
            "Business.HoursSet": self.hours_set,
            "Business.ClosureAdded": self.closure_added,
            "Business.PolicySet": self.policy_set,
        }

    def registered(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            insert(businesses).values(
                id=str(event.originator_id),
                owner_id=event.owner_id,
                name=event.name,
                slug=event.slug,
                timezone=event.timezone,
                capacity=event.capacity,
                weekly=[],
                closures=[],
                policy={
                    "min_notice_minutes": 0,
                    "max_advance_days": 365,
                    "cancellation_deadline_hours": 0,
                    "requires_confirmation": False,
                },
                version=event.originator_version,
                created_at=event.timestamp,
                updated_at=event.timestamp,
            )
        )

    def hours_set(self, conn: Connection, event: Any, position: int) -> None:
        change_row(conn, businesses, event, weekly=list(event.weekly))

    def closure_added(self, conn: Connection, event: Any, position: int) -> None:
        current = conn.execute(
            select(businesses.c.closures).where(businesses.c.id == str(event.originator_id))
        ).scalar_one()
        closure = {"start": _iso(event.start), "end": _iso(event.end), "reason": event.reason}
        change_row(conn, businesses, event, closures=[*current, closure])

    def policy_set(self, conn: Connection, event: Any, position: int) -> None:
        change_row(
            conn,
            businesses,
            event,
            policy={
                "min_notice_minutes": event.min_notice_minutes,
                "max_advance_days": event.max_advance_days,
                "cancellation_deadline_hours": event.cancellation_deadline_hours,
                "requires_confirmation": event.requires_confirmation,
            },
        )
