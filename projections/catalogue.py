"""ServiceCatalogueProjector: each business's services and their terms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import services

TERMS = (
    "name",
    "duration_minutes",
    "seats",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_interval_minutes",
    "currency",
)


def _terms(event: Any) -> dict[str, Any]:
    return {**{f: getattr(event, f) for f in TERMS}, "price_amount": str(event.price_amount)}


class ServiceCatalogueProjector(DispatchingProjector):
    name = "service_catalogue"
    tables = (services,)

    def handlers(self) -> dict[str, Handler]:
        return {
            "Service.Created": self.created,
            "Service.Updated": self.updated,
            "Service.Deactivated": self.deactivated,
        }

    def created(self, conn: Connection, event: Any, position: int) -> None:
        conn.execute(
            insert(services).values(
                id=str(event.originator_id),
                business_id=str(event.business_id),
                active=True,
                version=event.originator_version,
                created_at=event.timestamp,
                updated_at=event.timestamp,
                **_terms(event),
            )
        )

    def updated(self, conn: Connection, event: Any, position: int) -> None:
        change_row(conn, services, event, **_terms(event))

    def deactivated(self, conn: Connection, event: Any, position: int) -> None:
        change_row(conn, services, event, active=False)
