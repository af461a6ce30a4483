"""The WaitlistEntry aggregate: one customer waiting for a full start, and the offer they get.

An entry waits in line (its place is kept in the DayAllocations it touches,
see `domain.line`); when a seat or resource frees there, the waitlist process
manager offers it as a hold that lasts `waitlist_offer_minutes`. The customer
accepts it (a booking takes the hold's place in the same save), declines it,
or lets it expire; then the next entry in line is offered the seat.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from domain.base import Aggregate
from domain.errors import IllegalTransition, OfferExpired
from domain.personal import Sealed

BOOKING_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotwise.dev/waitlist-booking")


class EntryStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"  # the customer said no to an offer
    LEFT = "left"  # the customer left the line before any offer
    EXPIRED = "expired"  # the offer ran out unanswered
    DROPPED = "dropped"  # the start passed while the entry waited


E = EntryStatus
ALLOWED_FROM: dict[str, frozenset[EntryStatus]] = {
    "offer": frozenset({E.WAITING}),
    "accept": frozenset({E.OFFERED}),
    "leave": frozenset({E.WAITING, E.OFFERED}),
    "expire": frozenset({E.OFFERED}),
    "drop": frozenset({E.WAITING}),
}
IN_LINE = frozenset({E.WAITING, E.OFFERED})


def booking_id_for(entry_id: UUID) -> UUID:
    """The booking an accepted offer becomes: one per entry, whoever accepts and however often."""
    return uuid5(BOOKING_NAMESPACE, str(entry_id))


class WaitlistEntry(Aggregate):
    """A customer's place in line for one start of one service (optionally one resource)."""

    class Joined(Aggregate.Created):
        business_id: UUID
        service_id: UUID
        customer_id: str
        placed_by: str
        start: datetime
        end: datetime
        occupied_start: datetime
        occupied_end: datetime
        timezone: str
        service_name: str
        resource_id: UUID | None
        personal_data: Sealed | None
        seq: int  # its place in line among the entries sharing a day (first come, first)

    @event(Joined)
    def __init__(
        self,
        id: UUID,
        business_id: UUID,
        service_id: UUID,
        customer_id: str,
        placed_by: str,
        start: datetime,
        end: datetime,
        occupied_start: datetime,
        occupied_end: datetime,
        timezone: str,
        service_name: str,
        resource_id: UUID | None,
        personal_data: Sealed | None,
        seq: int,
    ) -> None:
        self.business_id = business_id
        self.service_id = service_id
        self.customer_id = customer_id
        self.placed_by = placed_by
        self.start = start
        self.end = end
        self.occupied_start = occupied_start
        self.occupied_end = occupied_end
        self.timezone = timezone
        self.service_name = service_name
        self.resource_id = resource_id
        self.personal_data = personal_data
        self.seq = seq
        self.status = EntryStatus.WAITING
        self.offer_expires_at: datetime | None = None
        self.offered_resources: list[dict[str, str]] = []
        self.offers = 0
        self.booking_id: UUID | None = None

    def _require(self, action: str) -> None:
        if self.status not in ALLOWED_FROM[action]:
            allowed = ", ".join(sorted(ALLOWED_FROM[action]))
            raise IllegalTransition(
                f"cannot {action} a waitlist entry that is {self.status.value} "
                f"(allowed from: {allowed})"
            )

    @property
    def in_line(self) -> bool:
        return self.status in IN_LINE

    def offer(self, expires_at: datetime, resources: list[dict[str, str]]) -> None:
        self._require("offer")
        self._offer(self.business_id, expires_at, resources)

    @event("Offered")
    def _offer(
        self, business_id: UUID, expires_at: datetime, resources: list[dict[str, str]]
    ) -> None:
        self.status = EntryStatus.OFFERED
        self.offer_expires_at = expires_at
        self.offered_resources = resources
        self.offers += 1

    def require_open_offer(self, now: datetime) -> datetime:
        """When the offer ends; OfferExpired once it has (the timer may not have run yet)."""
        self._require("accept")
        assert self.offer_expires_at is not None
        if now >= self.offer_expires_at:
            raise OfferExpired(
                f"the offer ended at {self.offer_expires_at.isoformat()}; "
                "the seat goes to the next in line"
            )
        return self.offer_expires_at

    def accept(self, booking_id: UUID, now: datetime) -> None:
        self.require_open_offer(now)
        self._accept(self.business_id, booking_id)

    @event("Accepted")
    def _accept(self, business_id: UUID, booking_id: UUID) -> None:
        self.status = EntryStatus.ACCEPTED
        self.booking_id = booking_id

    def leave(self) -> None:
        """Leave the line: before an offer (left) or by declining it (declined)."""
        self._require("leave")
        if self.status is EntryStatus.OFFERED:
            self._decline(self.business_id)
        else:
            self._leave(self.business_id)

    @event("Declined")
    def _decline(self, business_id: UUID) -> None:
        self.status = EntryStatus.DECLINED

    @event("Left")
    def _leave(self, business_id: UUID) -> None:
        self.status = EntryStatus.LEFT

    def expire_offer(self, now: datetime) -> None:
        self._require("expire")
        assert self.offer_expires_at is not None
        if now < self.offer_expires_at:
            raise IllegalTransition(
                f"the offer runs until {self.offer_expires_at.isoformat()}; it has not expired"
            )
        self._expire(self.business_id)

    @event("OfferExpired")
    def _expire(self, business_id: UUID) -> None:
        self.status = EntryStatus.EXPIRED

    def drop(self, now: datetime) -> None:
        """The start passed (or can no longer be booked) while the entry waited."""
        self._require("drop")
        if now < self.start:
            raise IllegalTransition(f"the start {self.start.isoformat()} has not passed")
        self._drop(self.business_id, "the start passed")

    @event("Dropped")
    def _drop(self, business_id: UUID, reason: str) -> None:
        self.status = EntryStatus.DROPPED

    def view(self) -> dict[str, Any]:
        """What answers show of the entry."""
        zone = ZoneInfo(self.timezone)  # the business's offset, as availability shows
        offered = self.status is E.OFFERED
        return {
            "status": self.status.value,
            "service_id": str(self.service_id),
            "start": self.start.astimezone(zone),
            "end": self.end.astimezone(zone),
            "resource_id": str(self.resource_id) if self.resource_id else None,
            "offer_expires_at": self.offer_expires_at if offered else None,
            "resources": self.offered_resources if offered else [],
            "booking_id": str(self.booking_id) if self.booking_id else None,
        }
