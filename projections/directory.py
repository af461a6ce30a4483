"""BusinessDirectoryProjector: business profiles, looked up by id or slug."""

from __future__ import annotations

from typing import Any

from domain.closures import closure_id_of
from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import business_addresses, businesses
from projections.workspace import Workspace

POLICY = (
    "min_notice_minutes",
    "max_advance_days",
    "cancellation_deadline_hours",
    "requires_confirmation",
)


def policy_of(envelope: Envelope) -> dict[str, Any]:
    return {name: envelope.data[name] for name in POLICY}


class BusinessDirectoryProjector(DispatchingProjector):
    name = "business_directory"
    tables = (businesses, business_addresses)
    by_subject = (businesses, business_addresses)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.business.registered": self.registered,
            "slotwise.business.profile_changed": self.profile_changed,
            "slotwise.business.hours_set": self.hours_set,
            "slotwise.business.closure_added": self.closure_added,
            "slotwise.business.closure_removed": self.closure_removed,
            "slotwise.business.policy_set": self.policy_set,
            "slotwise.business.address_set": self.address_set,
        }

    def registered(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            businesses,
            id=envelope.subject,
            owner_id=envelope.text("owner_id"),
            name=envelope.text("name"),
            slug=envelope.text("slug"),
            timezone=envelope.text("timezone"),
            capacity=envelope.data["capacity"],
            weekly=[],
            closures=[],
            policy=policy_of(envelope),
            version=envelope.aggregateversion,
            created_at=envelope.occurred_at,
            updated_at=envelope.occurred_at,
        )

    def hours_set(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, businesses, envelope, weekly=list(envelope.data["weekly"]))

    def profile_changed(self, ws: Workspace, envelope: Envelope) -> None:
        profile = {name: envelope.data[name] for name in ("name", "timezone", "capacity")}
        change_row(ws, businesses, envelope, **profile)

    def address_set(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, businesses, envelope)
        ws.put(business_addresses, id=envelope.subject, address=envelope.data["address"])

    def closure_added(self, ws: Workspace, envelope: Envelope) -> None:
        closure = {name: envelope.data[name] for name in ("start", "end", "reason")}
        closure = {"id": envelope.text("closure_id"), **closure}
        change_row(ws, businesses, envelope, closures=[*_closures(ws, envelope), closure])

    def closure_removed(self, ws: Workspace, envelope: Envelope) -> None:
        removed = envelope.text("closure_id")
        kept = [
            c for c in _closures(ws, envelope) if str(closure_id_of(envelope.subject, c)) != removed
        ]
        change_row(ws, businesses, envelope, closures=kept)

    def policy_set(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(ws, businesses, envelope, policy=policy_of(envelope))


def _closures(ws: Workspace, envelope: Envelope) -> list[dict[str, Any]]:
    current: list[dict[str, Any]] = ws.one(businesses, envelope.subject)["closures"]
    return list(current)
