"""ServiceCatalogueProjector: each business's services and their terms."""

from __future__ import annotations

from typing import Any

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import services
from projections.workspace import Workspace

TERMS = (
    "name",
    "duration_minutes",
    "seats",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_interval_minutes",
    "currency",
    "price_amount",
)


def _terms(envelope: Envelope) -> dict[str, Any]:
    return {name: envelope.data[name] for name in TERMS}


class ServiceCatalogueProjector(DispatchingProjector):
    name = "service_catalogue"
    tables = (services,)
    by_subject = (services,)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.service.created": self.created,
            "slotwise.service.updated": self.updated,
            "slotwise.service.deactivated": self.deactivated,
            "slotwise.service.reactivated": self.reactivated,
        }

    def created(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            services,
            id=envelope.subject,
            business_id=envelope.text("business_id"),
            active=True,
            version=envelope.aggregateversion,
            created_at=envelope.occurred_at,
            updated_at=envelope.occurred_at,
            **_terms(envelope),
        )

    def updated(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, services, envelope, **_terms(envelope))

    def deactivated(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, services, envelope, active=False)

    def reactivated(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, services, envelope, active=True)
