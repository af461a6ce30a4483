"""ResourcesProjector: a business's bookable resources, their hours and time off, and what
each service needs of them (the business's and services' events)."""

from __future__ import annotations

from typing import Any

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler
from projections.tables import resources, service_requirements
from projections.workspace import Workspace

PROFILE = ("name", "kind", "category", "metadata", "weekly")


class ResourcesProjector(DispatchingProjector):
    name = "resources"
    tables = (resources, service_requirements)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.business.resource_added": self.added,
            "slotwise.business.resource_changed": self.changed,
            "slotwise.business.resource_deactivated": self.deactivated,
            "slotwise.business.resource_reactivated": self.reactivated,
            "slotwise.business.resource_time_off_added": self.time_off_added,
            "slotwise.business.resource_time_off_removed": self.time_off_removed,
            "slotwise.service.created": self.requirement,
            "slotwise.service.updated": self.requirement,
        }

    def added(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            resources,
            id=envelope.text("resource_id"),
            business_id=envelope.subject,
            time_off=[],
            active=True,
            version=envelope.aggregateversion,
            **{name: envelope.data[name] for name in PROFILE},
        )

    def _change(self, ws: Workspace, envelope: Envelope, **values: Any) -> None:
        key = (envelope.text("resource_id"),)
        ws.change(resources, key, version=envelope.aggregateversion, **values)

    def changed(self, ws: Workspace, envelope: Envelope) -> None:
        self._change(ws, envelope, **{name: envelope.data[name] for name in PROFILE})

    def deactivated(self, ws: Workspace, envelope: Envelope) -> None:
        self._change(ws, envelope, active=False)

    def reactivated(self, ws: Workspace, envelope: Envelope) -> None:
        self._change(ws, envelope, active=True)

    def time_off_added(self, ws: Workspace, envelope: Envelope) -> None:
        row = ws.one(resources, envelope.text("resource_id"))
        entry = {name: envelope.data[name] for name in ("start", "end", "reason")}
        entry["id"] = envelope.text("time_off_id")
        self._change(ws, envelope, time_off=[*row["time_off"], entry])

    def time_off_removed(self, ws: Workspace, envelope: Envelope) -> None:
        row = ws.one(resources, envelope.text("resource_id"))
        gone = envelope.text("time_off_id")
        self._change(ws, envelope, time_off=[t for t in row["time_off"] if t["id"] != gone])

    def requirement(self, ws: Workspace, envelope: Envelope) -> None:
        requires = envelope.data.get("requires")
        if requires:
            also = list(envelope.data.get("also_requires") or [])
            ws.put(
                service_requirements,
                service_id=envelope.subject,
                requires=requires,
                also_requires=also,
            )
