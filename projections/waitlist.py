"""WaitlistProjector: each waitlist entry as its customer sees it, offer included."""

from __future__ import annotations

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler, change_row
from projections.tables import waitlist_entries
from projections.workspace import Workspace

ENDED = {
    "slotwise.waitlist_entry.declined": "declined",
    "slotwise.waitlist_entry.left": "left",
    "slotwise.waitlist_entry.offer_expired": "expired",
    "slotwise.waitlist_entry.dropped": "dropped",
}


class WaitlistProjector(DispatchingProjector):
    name = "waitlist"
    by_subject = (waitlist_entries,)
    tables = by_subject

    def handlers(self) -> dict[str, Handler]:
        ended: dict[str, Handler] = dict.fromkeys(ENDED, self.ended)
        return {
            "slotwise.waitlist_entry.joined": self.joined,
            "slotwise.waitlist_entry.offered": self.offered,
            "slotwise.waitlist_entry.accepted": self.accepted,
            **ended,
        }

    def joined(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            waitlist_entries,
            id=envelope.subject,
            business_id=envelope.text("business_id"),
            service_id=envelope.text("service_id"),
            customer_id=envelope.text("customer_id"),
            service_name=envelope.text("service_name"),
            timezone=envelope.text("timezone"),
            start=envelope.instant("start"),
            end=envelope.instant("end"),
            resource_id=envelope.data.get("resource_id"),
            status="waiting",
            offer_expires_at=None,
            resources=[],
            booking_id=None,
            joined_at=envelope.occurred_at,
            version=envelope.aggregateversion,
            updated_at=envelope.occurred_at,
        )

    def offered(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(
            ws,
            waitlist_entries,
            envelope,
            status="offered",
            offer_expires_at=envelope.instant("expires_at"),
            resources=list(envelope.data.get("resources") or []),
        )

    def accepted(self, ws: Workspace, envelope: Envelope) -> None:
        change_row(
            ws,
            waitlist_entries,
            envelope,
            status="accepted",
            offer_expires_at=None,
            resources=[],
            booking_id=envelope.text("booking_id"),
        )

    def ended(self, ws: Workspace, envelope: Envelope) -> None:
        status = ENDED[envelope.type]
        change_row(
            ws, waitlist_entries, envelope, status=status, offer_expires_at=None, resources=[]
        )
