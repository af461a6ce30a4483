"""AvailabilityProjector: the time each live booking and waitlist offer holds, and the line
waiting for freed seats, for the read-side slot engine."""

from __future__ import annotations

import uuid

from domain.envelope import Envelope
from projections.base import DispatchingProjector, Handler
from projections.tables import allocations, availability_stamps, resource_holds, waitlist_line
from projections.workspace import Workspace


class AvailabilityProjector(DispatchingProjector):
    name = "availability"
    # Events of many bookings meet in a stamp per business: one batch at a time, across workers.
    serial = True
    tables = (allocations, availability_stamps, resource_holds, waitlist_line)
    by_subject = (allocations, resource_holds, waitlist_line)

    def fold(self, ws: Workspace, handler: Handler, envelope: Envelope) -> None:
        business_id = business_of(ws, envelope)  # before a cancellation deletes the row
        handler(ws, envelope)
        if business_id:
            stamp(ws, business_id)

    def handlers(self) -> dict[str, Handler]:
        return {
            "slotwise.booking.placed": self.placed,
            "slotwise.booking.rescheduled": self.rescheduled,
            "slotwise.booking.cancelled": self.released,
            "slotwise.booking.expired": self.released,  # a payment hold ended unpaid
            "slotwise.waitlist_entry.joined": self.joined,
            "slotwise.waitlist_entry.offered": self.offered,
            # An offer's hold ends: taken over by its booking, declined or run out.
            "slotwise.waitlist_entry.accepted": self.released,
            "slotwise.waitlist_entry.declined": self.released,
            "slotwise.waitlist_entry.offer_expired": self.released,
            "slotwise.waitlist_entry.left": self.left_line,
            "slotwise.waitlist_entry.dropped": self.left_line,
        }

    def placed(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            allocations,
            booking_id=envelope.subject,
            business_id=envelope.text("business_id"),
            service_id=envelope.text("service_id"),
            **held_time(envelope),
        )
        self.hold_resources(ws, envelope, envelope.text("business_id"))

    def rescheduled(self, ws: Workspace, envelope: Envelope) -> None:
        ws.change(allocations, (envelope.subject,), **held_time(envelope))
        found = ws.get(allocations, envelope.subject)
        if found is not None:
            self.release_resources(ws, envelope)
            self.hold_resources(ws, envelope, str(found["business_id"]))

    def released(self, ws: Workspace, envelope: Envelope) -> None:
        if ws.get(allocations, envelope.subject) is not None:
            ws.delete(allocations, envelope.subject)
        self.release_resources(ws, envelope)

    def joined(self, ws: Workspace, envelope: Envelope) -> None:
        ws.insert(
            waitlist_line,
            entry_id=envelope.subject,
            business_id=envelope.text("business_id"),
            service_id=envelope.text("service_id"),
            customer_id=envelope.text("customer_id"),
            resource_id=envelope.data.get("resource_id"),
            seq=int(envelope.data["seq"]),
            **held_time(envelope),
        )

    def offered(self, ws: Workspace, envelope: Envelope) -> None:
        """The entry leaves the line and holds its seat like a booking until the offer ends."""
        waiting = ws.get(waitlist_line, envelope.subject)
        if waiting is None:
            return
        ws.delete(waitlist_line, envelope.subject)
        times = {k: waiting[k] for k in ("start", "end", "occupied_start", "occupied_end")}
        business_id = str(waiting["business_id"])
        ws.insert(
            allocations,
            booking_id=envelope.subject,
            business_id=business_id,
            service_id=waiting["service_id"],
            **times,
        )
        held = [r["id"] for r in envelope.data.get("resources") or ()]
        if held:
            ws.put(
                resource_holds,
                booking_id=envelope.subject,
                resource_ids=held,
                business_id=business_id,
                start=times["start"],
                occupied_start=times["occupied_start"],
                occupied_end=times["occupied_end"],
            )

    def left_line(self, ws: Workspace, envelope: Envelope) -> None:
        if ws.get(waitlist_line, envelope.subject) is not None:
            ws.delete(waitlist_line, envelope.subject)

    @staticmethod
    def hold_resources(ws: Workspace, envelope: Envelope, business_id: str) -> None:
        held = [r["id"] for r in envelope.data.get("resources") or ()]
        if held:
            times = held_time(envelope)
            ws.put(
                resource_holds,
                booking_id=envelope.subject,
                resource_ids=held,
                business_id=business_id,
                start=times["start"],
                occupied_start=times["occupied_start"],
                occupied_end=times["occupied_end"],
            )

    @staticmethod
    def release_resources(ws: Workspace, envelope: Envelope) -> None:
        if ws.get(resource_holds, envelope.subject) is not None:
            ws.delete(resource_holds, envelope.subject)


def business_of(ws: Workspace, envelope: Envelope) -> str:
    found = ws.get(allocations, envelope.subject)
    return str((found or {}).get("business_id") or envelope.data.get("business_id") or "")


def stamp(ws: Workspace, business_id: str) -> None:
    """Give the business's allocations a new stamp (the read cache's keys move on)."""
    ws.put(availability_stamps, business_id=business_id, stamp=uuid.uuid4().hex)


def held_time(envelope: Envelope) -> dict[str, object]:
    names = ("start", "end", "occupied_start", "occupied_end")
    return {name: envelope.instant(name) for name in names}
